/**
 * Reconnection delays: exponential in the number of failures in a row, capped, with jitter so that the
 * members of a cluster that lost a peer at the same moment do not all redial it in lockstep.
 */
import { assert } from './errors.ts';

export interface BackoffOptions {
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
}

/** Past this many doublings the cap applies anyway; it keeps 2^failures finite. */
const doublingsMax = 30;

/**
 * The wait before the next attempt, in [delay / 2, delay] where delay = min(base · 2^failures, max).
 * Never below base / 2, so a peer that refuses at once is not redialled in a busy loop.
 *
 * @example
 * setTimeout(connect, backoffDelayMs(failures, { backoffBaseMs: 50, backoffMaxMs: 2000 }, Math.random));
 */
export function backoffDelayMs(failures: number, options: BackoffOptions, random: () => number): number {
  assert(Number.isSafeInteger(failures) && failures >= 0, 'failures is a count');
  const delayMs = Math.min(options.backoffMaxMs, options.backoffBaseMs * 2 ** Math.min(failures, doublingsMax));
  const draw = random();
  assert(draw >= 0 && draw < 1, 'random() returns a number in [0, 1)');
  const waitMs = delayMs / 2 + draw * (delayMs / 2);
  assert(waitMs >= options.backoffBaseMs / 2 && waitMs <= options.backoffMaxMs, 'backoff within its bounds');
  return waitMs;
}
