/**
 * The scraper: Prometheus text format 0.0.4 and OpenMetrics 1.0 parsers, relabelling, targets, the
 * per-target scrape loop with staleness markers, discovery (static, file, keel) and the scrape manager.
 *
 * @example
 * import { ScrapeManager } from './scrape/index.ts';
 * const manager = new ScrapeManager(db);
 * await manager.applyConfig(config);
 */
export { formatFromContentType, lineLengthCharactersMax, parseExposition, parseSamplesMax } from './parse.ts';
export type { ParseOptions, ParseResult } from './parse.ts';
export { ParseError } from './parse-errors.ts';
export type { ParseErrorCode } from './parse-errors.ts';
export type { ExpositionFormat, MetricMetadata, MetricType } from './parse-families.ts';
export { formatFloatLabelValue, parseSampleValue, parseSecondsAsTimestampMs, parseTimestampMs } from './parse-number.ts';
export { exemplarLabelCharactersMax } from './parse-openmetrics.ts';
export type { ParsedSample } from './parse-sample.ts';
export { hashMod, newRelabelConfig, relabel, relabelActions, RelabelError, relabelMap, relabelRulesMax, relabelSourceLabelsMax } from './relabel.ts';
export type { RelabelAction, RelabelConfig, RelabelConfigInput, RelabelErrorCode, RelabelRegex } from './relabel.ts';
export {
  addressLabel, metaLabelPrefix, metricsPathLabel, paramLabelPrefix, populateTarget, schemeLabel, scrapeIntervalLabel, scrapeTimeoutLabel,
  Target, targetsFromGroup, targetUrl,
} from './target.ts';
export type { TargetResult, TargetSettings } from './target.ts';
export { ScrapeError } from './errors.ts';
export type { ScrapeErrorCode } from './errors.ts';
export { scrapeAcceptHeader, scrapeUserAgent } from './_http.ts';
export {
  nextTickMs, reportMetricNames, scrapeBodyBytesMax, ScrapeLoop, scrapeTimestampToleranceMs, seriesSeenIterationsMax, seriesSeenMax, staleMarkerValue,
} from './loop.ts';
export type { LoopEnvironment, LoopSettings, LoopState, StopMode } from './loop.ts';
export { mutationCacheEntriesMax, mutationCacheIterationsMax } from './_samples.ts';
export type { SampleSettings } from './_samples.ts';
export { ScrapeSlots } from './_slots.ts';
export {
  FileDiscovery, fileSdBytesMax, fileSdFilesMax, KeelDiscovery, keelSdMembersMax, keelSdTimeoutMs, listKeelMembers, providersForScrapeConfig, staticProvider,
} from './discovery.ts';
export type { DiscoveryProvider, KeelMember, KeelMemberLister } from './discovery.ts';
export { droppedTargetsMax, poolTargetsMax } from './_pool.ts';
export { ScrapeManager, scrapesConcurrentMaxDefault, scrapeWaitersMax } from './manager.ts';
export type { ScrapeManagerOptions } from './manager.ts';
