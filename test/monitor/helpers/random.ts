/**
 * A small seeded PRNG for property tests, so that every failure can be replayed. The seed comes from
 * KEEL_TEST_SEED when set; tests put it in their assertion messages.
 */

/** The seed for this run: KEEL_TEST_SEED, or the test's own default. */
export function testSeed(defaultSeed: number): number {
  const fromEnvironment = process.env['KEEL_TEST_SEED'];
  return fromEnvironment === undefined ? defaultSeed : Number(fromEnvironment) >>> 0;
}

export interface Random {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, bound). */
  below(bound: number): number;
  /** An unsigned 32-bit integer. */
  word(): number;
  pick<T>(items: readonly T[]): T;
}

/** A SplitMix32-style generator: a Weyl sequence through a strong 32-bit mixer. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  const word = (): number => {
    state = (state + 0x9e3779b9) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 16), 0x21f0aaad);
    mixed = Math.imul(mixed ^ (mixed >>> 15), 0x735a2d97);
    return (mixed ^ (mixed >>> 15)) >>> 0;
  };
  return {
    word,
    next: () => word() / 2 ** 32,
    below: (bound) => Math.floor((word() / 2 ** 32) * bound),
    pick: (items) => items[Math.floor((word() / 2 ** 32) * items.length)]!,
  };
}
