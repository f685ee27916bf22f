import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../../src/server/logger.ts';

test('logs are JSON lines with level, context and fields, below the threshold dropped', () => {
  const lines: string[] = [];
  const logger = createLogger('info', { member: 'm1' }, (line) => lines.push(line));
  logger.debug('hidden');
  logger.info('started', { port: 2379 });
  logger.error('failed', { reason: 'disk' });
  assert.equal(lines.length, 2);
  const first = JSON.parse(lines[0]!) as Record<string, unknown>;
  assert.equal(first['level'], 'info');
  assert.equal(first['member'], 'm1');
  assert.equal(first['msg'], 'started');
  assert.equal(first['port'], 2379);
  assert.ok(lines.every((line) => line.endsWith('\n')));
});
