/**
 * The logger the storage layer reports through. Repairs and skipped files are always reported, never
 * silent, so the logger is a required option wherever one can happen.
 */
export interface StorageLogger {
  info(message: string, fields?: Readonly<Record<string, string | number>>): void;
  warn(message: string, fields?: Readonly<Record<string, string | number>>): void;
}

/** A logger that writes one JSON line per event to stderr. */
export const stderrLogger: StorageLogger = {
  info(message, fields) {
    process.stderr.write(`${JSON.stringify({ level: 'info', message, ...fields })}\n`);
  },
  warn(message, fields) {
    process.stderr.write(`${JSON.stringify({ level: 'warn', message, ...fields })}\n`);
  },
};
