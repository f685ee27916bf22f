/** Where a command writes; the process streams by default, a buffer in tests. */
export interface Output {
  out(line: string): void;
  error(line: string): void;
}

let pipeHandled = false;

/** A reader that went away (`keel sim ... | head`) ends the command quietly, as for any Unix filter. */
function handleClosedPipe(): void {
  if (pipeHandled) return;
  pipeHandled = true;
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
}

export const processOutput: Output = {
  out: (line) => {
    handleClosedPipe();
    process.stdout.write(`${line}\n`);
  },
  error: (line) => process.stderr.write(`${line}\n`),
};

/** Exit codes shared by every keel command. */
export const exitCodes = { ok: 0, violation: 1, usage: 2 } as const;

/** A bad command line: printed with the usage, exit code 2. */
export class UsageError extends Error {
  readonly code = 'KEEL_USAGE';
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
