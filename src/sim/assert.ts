/**
 * The simulator's always-on assertion. A failed one is a bug in the simulator itself (not in the core),
 * so it carries its own error class and code: `keel sim` reports it apart from invariant violations.
 */
export class SimulatorError extends Error {
  readonly code = 'SIM_ASSERTION';
  constructor(message: string) {
    super(message);
    this.name = 'SimulatorError';
  }
}

export function assert(condition: boolean, message: string | (() => string)): asserts condition {
  if (!condition) throw new SimulatorError(typeof message === 'string' ? message : message());
}
