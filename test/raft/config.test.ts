// Config validation: every bound is checked by validateConfig and refused with a ConfigError that names
// the field.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ConfigError, type ConfigInput, MemoryStorage, RaftNode, ReadOnlyOption, defaultConfig, validateConfig,
} from '../../src/raft/index.ts';
import { FixedRandom } from './_network.ts';

function input(overrides: Partial<ConfigInput>): ConfigInput {
  return { id: 1, storage: new MemoryStorage({ voters: [1] }), random: new FixedRandom(0), ...overrides };
}

function assertRefused(overrides: Partial<ConfigInput>, field: string): void {
  assert.throws(() => validateConfig(input(overrides)), (error: unknown) => {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    assert.equal(error.code, 'RAFT_INVALID_CONFIG');
    assert.ok(error.message.includes(field), `"${error.message}" does not name ${field}`);
    return true;
  }, `${JSON.stringify(overrides)} was accepted`);
}

const refusals: [string, Partial<ConfigInput>][] = [
  ['id', { id: 0 }],
  ['id', { id: -3 }],
  ['id', { id: 1.5 }],
  ['id', { id: Number.NaN }],
  ['heartbeatTicks', { heartbeatTicks: 0 }],
  ['heartbeatTicks', { heartbeatTicks: Number.NaN }],
  ['electionTicks', { electionTicks: 1, heartbeatTicks: 1 }],
  ['electionTicks', { electionTicks: 5, heartbeatTicks: 6, leaseMarginTicks: 1 }],
  ['maxSizePerMsgBytes', { maxSizePerMsgBytes: 0 }],
  ['maxInflightMsgs', { maxInflightMsgs: 0 }],
  ['maxInflightMsgs', { maxInflightMsgs: Number.NaN }],
  ['maxInflightBytes', { maxInflightBytes: 10, maxSizePerMsgBytes: 100 }],
  ['maxUncommittedEntriesBytes', { maxUncommittedEntriesBytes: 0 }],
  ['maxCommittedSizePerReadyBytes', { maxCommittedSizePerReadyBytes: 0 }],
  ['maxPendingReadIndexRequests', { maxPendingReadIndexRequests: 0 }],
  ['maxForwardedProposalEntries', { maxForwardedProposalEntries: 0 }],
  ['readOnlyOption', { readOnlyOption: ReadOnlyOption.LeaseBased, checkQuorum: false }],
  ['leaseMarginTicks', { leaseMarginTicks: 0 }],
  ['leaseMarginTicks', { leaseMarginTicks: 10, electionTicks: 10 }],
];

describe('validateConfig', () => {
  for (const [field, overrides] of refusals) {
    test(`refuses ${JSON.stringify(overrides)} naming ${field}`, () => assertRefused(overrides, field));
  }

  test('accepts the defaults and fills them in', () => {
    const config = validateConfig(input({}));
    for (const [key, value] of Object.entries(defaultConfig)) {
      assert.deepEqual(config[key as keyof typeof defaultConfig], value, key);
    }
  });

  test('accepts the edges of every bound', () => {
    validateConfig(input({ heartbeatTicks: 1, electionTicks: 2, leaseMarginTicks: 1, maxInflightMsgs: 1, maxInflightBytes: 0, maxSizePerMsgBytes: 1 }));
    validateConfig(input({ maxInflightBytes: 100, maxSizePerMsgBytes: 100 }));
    validateConfig(input({ readOnlyOption: ReadOnlyOption.LeaseBased, checkQuorum: true, leaseMarginTicks: 9 }));
  });

  test('the RaftNode constructor validates its config', () => {
    assert.throws(() => new RaftNode(input({ maxInflightMsgs: 0 })), ConfigError);
  });

  test('tick and count bounds must be whole numbers', () => {
    assertRefused({ maxInflightMsgs: 2.5 }, 'maxInflightMsgs');
    assertRefused({ maxInflightMsgs: Number.POSITIVE_INFINITY }, 'maxInflightMsgs');
    assertRefused({ electionTicks: 10.5 }, 'electionTicks');
    assertRefused({ heartbeatTicks: 1.5 }, 'heartbeatTicks');
    assertRefused({ maxPendingReadIndexRequests: 0.5 }, 'maxPendingReadIndexRequests');
  });
});
