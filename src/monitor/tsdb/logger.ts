/**
 * The logger the TSDB reports repairs and maintenance through: the storage layer's interface, so one
 * logger serves both. Repairs are never silent; pass `silentLogger` only where a test checks them another way.
 */
import type { StorageLogger } from '../../storage/logger.ts';

export type TsdbLogger = StorageLogger;
export { stderrLogger } from '../../storage/logger.ts';

/** Drops every message. */
export const silentLogger: TsdbLogger = {
  info() {},
  warn() {},
};
