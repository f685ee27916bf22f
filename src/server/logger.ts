/** Structured logs: one JSON object per line on stderr, filtered by level, with the member's name. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
type Fields = Readonly<Record<string, string | number | boolean>>;

export interface Logger {
  debug(message: string, fields?: Fields): void;
  info(message: string, fields?: Fields): void;
  warn(message: string, fields?: Fields): void;
  error(message: string, fields?: Fields): void;
}

const rank: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export function createLogger(level: LogLevel, context: Fields, write: (line: string) => void = (line) => process.stderr.write(line)): Logger {
  const log = (at: LogLevel) => (message: string, fields?: Fields) => {
    if (rank[at] < rank[level]) return;
    write(`${JSON.stringify({ ts: new Date().toISOString(), level: at, ...context, msg: message, ...fields })}\n`);
  };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}
