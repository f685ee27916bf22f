import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, environmentName, resolveServeConfig } from '../../src/server/config.ts';

test('defaults are etcd\'s, and a lone member forms its own initial cluster', () => {
  const config = resolveServeConfig([], {});
  assert.equal(config.name, 'default');
  assert.equal(config.dataDir, 'default.keel');
  assert.deepEqual(config.listenClientUrls, ['http://127.0.0.1:2379']);
  assert.equal(config.heartbeatIntervalMs, 100);
  assert.equal(config.electionTimeoutMs, 1000);
  assert.equal(config.quotaBackendBytes, 2 * 1024 ** 3);
  assert.equal(config.maxRequestBytes, 1572864);
  assert.deepEqual(config.initialCluster, [{ name: 'default', peerUrls: ['http://127.0.0.1:2380'] }]);
});

test('flags override the environment, which overrides the config file', () => {
  const directory = mkdtempSync(join(tmpdir(), 'keel-config-'));
  try {
    const file = join(directory, 'keel.yml');
    writeFileSync(file, 'name: from-file\nsnapshot-count: 7\nheartbeat-interval: 50\nlisten-client-urls:\n  - http://127.0.0.1:3379\n  - http://127.0.0.1:3389\n');
    const config = resolveServeConfig(['--config-file', file, '--heartbeat-interval=20'], {
      [environmentName('snapshot-count')]: '9', KEEL_NAME: undefined,
    });
    assert.equal(config.name, 'from-file');
    assert.equal(config.snapshotCount, 9, 'the environment beats the file');
    assert.equal(config.heartbeatIntervalMs, 20, 'a flag beats the file');
    assert.deepEqual(config.listenClientUrls, ['http://127.0.0.1:3379', 'http://127.0.0.1:3389']);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});

test('--initial-cluster is parsed into members, and must name this member', () => {
  const config = resolveServeConfig(['--name', 'b', '--initial-cluster', 'a=http://127.0.0.1:2380,b=http://127.0.0.1:2381,b=http://127.0.0.1:2391'], {});
  assert.deepEqual(config.initialCluster, [
    { name: 'a', peerUrls: ['http://127.0.0.1:2380'] },
    { name: 'b', peerUrls: ['http://127.0.0.1:2381', 'http://127.0.0.1:2391'] },
  ]);
  assert.throws(() => resolveServeConfig(['--name', 'c', '--initial-cluster', 'a=http://127.0.0.1:2380'], {}), /no member named c/);
});

test('bad input is refused with a message naming the flag', () => {
  const cases: [string[], RegExp][] = [
    [['--heartbeat-interval', 'fast'], /--heartbeat-interval must be a whole number/],
    [['--initial-cluster-state', 'maybe'], /--initial-cluster-state must be new or existing/],
    [['--listen-client-urls', 'not a url'], /--listen-client-urls: "not a url" is not a URL/],
    [['--listen-client-urls', 'https://127.0.0.1:2379'], /only http:\/\//],
    [['--listen-peer-urls', 'http://127.0.0.1'], /needs a port/],
    [['--bogus', '1'], /unknown flag --bogus/],
    [['--name'], /--name needs a value/],
    [['--election-timeout', '200'], /at least 5 times/],
    [['--log-level', 'loud'], /--log-level/],
  ];
  for (const [argv, message] of cases) assert.throws(() => resolveServeConfig(argv, {}), (error: unknown) => error instanceof ConfigError && message.test(error.message), argv.join(' '));
});
