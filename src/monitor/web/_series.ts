/**
 * `/api/v1/series`, `/api/v1/labels` and `/api/v1/label/<name>/values`: series metadata over a time range,
 * with Prometheus's parameters, defaults (the whole time range) and messages.
 */
import type { Querier } from '../storage.ts';
import type { Matcher } from '../tsdb/index/matcher.ts';
import { compareStrings, isValidLabelName, Labels } from '../tsdb/labels.ts';
import { type ApiResult, applyLimit, type HandlerContext, parseMatcherSets, responseItemsMax } from './_context.ts';
import { ApiError } from './errors.ts';
import { parseLimitParameter, parseTimeParameter, timeMsMax, timeMsMin } from './params.ts';

/**
 * Series that label names and values with `match[]` look at, at most. Those answers are small (names and
 * values repeat across series), so they may look at more series than a series answer may hold.
 */
export const selectedSeriesMax = 10 * responseItemsMax;

/**
 * The series matching any `match[]` selector that have a sample in [start, end], sorted by labels, each as
 * a label object.
 */
export function seriesHandler(context: HandlerContext): ApiResult {
  const { form } = context;
  const selectors = form.all('match[]');
  if (selectors.length === 0) throw new ApiError('bad_data', 'no match[] parameter provided');
  const startMs = parseTimeParameter(form, 'start', timeMsMin);
  const endMs = parseTimeParameter(form, 'end', timeMsMax);
  const limit = parseLimitParameter(form);
  const matcherSets = parseMatcherSets(selectors, true);
  if (endMs < startMs) return { data: [] };
  const found = withQuerier(context, startMs, endMs, (querier) => selectSeries(querier, matcherSets, limit ?? responseItemsMax));
  return applyLimit(found.map((labels) => labels.toRecord()), limit, 'series');
}

/** Label names, sorted; of the series matching `match[]` when given. */
export function labelNamesHandler(context: HandlerContext): ApiResult {
  const { form } = context;
  const startMs = parseTimeParameter(form, 'start', timeMsMin);
  const endMs = parseTimeParameter(form, 'end', timeMsMax);
  const limit = parseLimitParameter(form);
  const matcherSets = parseMatcherSets(form.all('match[]'), false);
  if (endMs < startMs) return { data: [] };
  const names = withQuerier(context, startMs, endMs, (querier) => {
    if (matcherSets.length === 0) return querier.labelNames();
    const found = new Set<string>();
    for (const labels of selectForLabels(querier, matcherSets)) for (const label of labels) found.add(label.name);
    return [...found].sort(compareStrings);
  });
  return applyLimit(names, limit, 'label names');
}

/** The values of one label, sorted; over the series matching `match[]` when given. */
export function labelValuesHandler(context: HandlerContext): ApiResult {
  const { form } = context;
  const name = context.parameters.name ?? '';
  if (!isValidLabelName(name)) throw new ApiError('bad_data', `invalid label name: ${JSON.stringify(name)}`);
  const startMs = parseTimeParameter(form, 'start', timeMsMin);
  const endMs = parseTimeParameter(form, 'end', timeMsMax);
  const limit = parseLimitParameter(form);
  const matcherSets = parseMatcherSets(form.all('match[]'), false);
  if (endMs < startMs) return { data: [] };
  const values = withQuerier(context, startMs, endMs, (querier) => {
    if (matcherSets.length === 0) return querier.labelValues(name);
    const found = new Set<string>();
    for (const labels of selectForLabels(querier, matcherSets)) {
      const value = labels.get(name);
      if (value !== '') found.add(value);
    }
    return [...found].sort(compareStrings);
  });
  return applyLimit(values, limit, 'label values');
}

function selectForLabels(querier: Querier, matcherSets: readonly Matcher[][]): Labels[] {
  const selected = selectSeries(querier, matcherSets, selectedSeriesMax);
  if (selected.length > selectedSeriesMax) {
    throw new ApiError('execution', `match[] selects more than ${selectedSeriesMax} series; narrow it or the time range`);
  }
  return selected;
}

function withQuerier<T>(context: HandlerContext, startMs: number, endMs: number, read: (querier: Querier) => T): T {
  const querier = context.options.queryable.querier(startMs, endMs);
  try {
    return read(querier);
  } finally {
    querier.close();
  }
}

/**
 * The union of the selections, sorted and without duplicates, keeping only series with a sample in the
 * querier's range (a store may return every series of a block that overlaps the range; Prometheus filters
 * at chunk granularity, keel per sample). Stops one past `countMax`, enough for the caller to see the
 * answer is too long.
 */
function selectSeries(querier: Querier, matcherSets: readonly Matcher[][], countMax: number): Labels[] {
  const all: Labels[] = [];
  for (const matchers of matcherSets) {
    for (const series of querier.select(matchers)) {
      if (series.iterator().next()) all.push(series.labels);
    }
  }
  all.sort(Labels.compare);
  const unique: Labels[] = [];
  for (const labels of all) {
    const previous = unique[unique.length - 1];
    if (previous !== undefined && previous.equals(labels)) continue;
    unique.push(labels);
    if (unique.length > countMax) break;
  }
  return unique;
}

