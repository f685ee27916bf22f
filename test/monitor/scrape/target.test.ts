import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newRelabelConfig, populateTarget, targetsFromGroup } from '../../../src/monitor/scrape/index.ts';
import type { RelabelConfigInput, Target, TargetResult, TargetSettings } from '../../../src/monitor/scrape/index.ts';

function settings(overrides: Partial<TargetSettings> = {}, rules: RelabelConfigInput[] = []): TargetSettings {
  return {
    jobName: 'node',
    scrapeIntervalMs: 15_000,
    scrapeTimeoutMs: 10_000,
    metricsPath: '/metrics',
    scheme: 'http',
    params: {},
    relabelConfigs: rules.map(newRelabelConfig),
    ...overrides,
  };
}

function active(result: TargetResult | undefined): Target {
  assert.ok(result !== undefined && result.kind === 'active', `expected an active target, got ${JSON.stringify(result)}`);
  return result.target;
}

test('a discovered address becomes a target with job, instance and the scrape URL', () => {
  const target = active(populateTarget({ __address__: '10.0.0.1:9100', __meta_source: 'x', env: 'prod' }, settings()));
  assert.deepEqual(target.labels.toRecord(), { env: 'prod', instance: '10.0.0.1:9100', job: 'node' });
  assert.equal(target.url, 'http://10.0.0.1:9100/metrics');
  assert.equal(target.scrapeIntervalMs, 15_000);
  assert.equal(target.scrapeTimeoutMs, 10_000);
  assert.equal(target.scrapePool, 'node');
  assert.deepEqual(target.discoveredLabels, {
    __address__: '10.0.0.1:9100', __meta_source: 'x', env: 'prod', job: 'node', __scrape_interval__: '15s', __scrape_timeout__: '10s',
    __metrics_path__: '/metrics', __scheme__: 'http',
  });
});

test('an address without a port gets the scheme’s default port, as Prometheus 2 does', () => {
  assert.equal(active(populateTarget({ __address__: 'x' }, settings())).labels.get('instance'), 'x:80');
  assert.equal(active(populateTarget({ __address__: 'x' }, settings({ scheme: 'https' }))).url, 'https://x:443/metrics');
  assert.equal(active(populateTarget({ __address__: '[::1]' }, settings())).labels.get('instance'), '[::1]:80');
  assert.equal(active(populateTarget({ __address__: '[::1]:9' }, settings())).labels.get('instance'), '[::1]:9');
});

test('group labels apply to every target unless the target sets them itself', () => {
  const results = targetsFromGroup({ source: '0', targets: [{ __address__: 'a:1' }, { __address__: 'b:1', env: 'dev' }], labels: { env: 'prod', team: 'db' } }, settings());
  assert.deepEqual(results.map((result) => active(result).labels.toRecord()), [
    { env: 'prod', instance: 'a:1', job: 'node', team: 'db' },
    { env: 'dev', instance: 'b:1', job: 'node', team: 'db' },
  ]);
});

test('params and __param_ labels make the query string, sorted and escaped like Go', () => {
  const probe = settings({ params: { module: ['http_2xx'], target: ['first', 'second'] }, metricsPath: '/probe' }, [{ sourceLabels: ['__meta_url'], targetLabel: '__param_target' }]);
  const target = active(populateTarget({ __address__: 'probe:9115', __meta_url: 'https://a.example/?q=1 2' }, probe));
  assert.equal(target.url, 'http://probe:9115/probe?module=http_2xx&target=https%3A%2F%2Fa.example%2F%3Fq%3D1+2&target=second');
  assert.equal(target.labels.has('__param_target'), false);
  // The job's params are set before relabelling and win over a discovered __param_ label, as in Prometheus.
  const plain = active(populateTarget({ __address__: 'probe:9115', __param_target: 'discovered' }, settings({ params: { target: ['configured'] } })));
  assert.equal(plain.url, 'http://probe:9115/metrics?target=configured');
});

test('relabelling can rewrite the address, interval, path and instance before the target is built', () => {
  const rules: RelabelConfigInput[] = [
    { sourceLabels: ['__meta_port'], targetLabel: '__address__', regex: '(.+)', replacement: 'host.internal:$1' },
    { targetLabel: '__scrape_interval__', replacement: '30s' },
    { targetLabel: '__metrics_path__', replacement: '/custom' },
    { targetLabel: 'instance', replacement: 'friendly' },
  ];
  const target = active(populateTarget({ __address__: 'ignored:1', __meta_port: '8080' }, settings({}, rules)));
  assert.equal(target.url, 'http://host.internal:8080/custom');
  assert.equal(target.scrapeIntervalMs, 30_000);
  assert.deepEqual(target.labels.toRecord(), { instance: 'friendly', job: 'node' });
});

test('targets are dropped by relabelling or fail with Prometheus’s messages', () => {
  const dropped = populateTarget({ __address__: 'a:1', env: 'dev' }, settings({}, [{ action: 'drop', sourceLabels: ['env'], regex: 'dev' }]));
  assert.equal(dropped.kind, 'dropped');
  assert.equal(dropped.discoveredLabels.env, 'dev');
  const failures: [Record<string, string>, RelabelConfigInput[], string][] = [
    [{ __address__: 'a:1' }, [{ action: 'labeldrop', regex: '__address__' }], 'no address'],
    [{ __address__: 'a:1/x' }, [], '"a:1/x" is not a valid hostname'],
    [{ __address__: 'a' }, [{ targetLabel: '__scheme__', replacement: 'ftp' }], 'invalid scheme: "ftp"'],
    [{ __address__: 'a:1' }, [{ targetLabel: '__scrape_interval__', replacement: 'soon' }], 'error parsing scrape interval: not a valid duration string: "soon"'],
    [{ __address__: 'a:1' }, [{ targetLabel: '__scrape_timeout__', replacement: '0s' }], 'scrape timeout cannot be 0'],
    [{ __address__: 'a:1' }, [{ targetLabel: '__scrape_timeout__', replacement: '1m' }], 'scrape timeout cannot be greater than scrape interval ("1m" > "15s")'],
  ];
  for (const [discovered, rules, error] of failures) {
    const result = populateTarget(discovered, settings({}, rules));
    assert.equal(result.kind, 'failed', error);
    assert.equal(result.kind === 'failed' ? result.error : '', error);
  }
});

test('meta labels are gone after relabelling but usable during it', () => {
  const target = active(populateTarget({ __address__: 'a:1', __meta_zone: 'eu' }, settings({}, [{ sourceLabels: ['__meta_zone'], targetLabel: 'zone' }])));
  assert.deepEqual(target.labels.toRecord(), { instance: 'a:1', job: 'node', zone: 'eu' });
});

test('a target’s scrape offset is stable, within the interval, and differs between targets', () => {
  const first = active(populateTarget({ __address__: 'a:1' }, settings()));
  const again = active(populateTarget({ __address__: 'a:1' }, settings()));
  const offsets = new Set<number>();
  for (let index = 0; index < 50; index += 1) {
    const target = active(populateTarget({ __address__: `host-${index}:9100` }, settings()));
    const offset = target.offsetMs(12345);
    assert.ok(offset >= 0 && offset < target.scrapeIntervalMs);
    offsets.add(offset);
  }
  assert.equal(first.offsetMs(7), again.offsetMs(7));
  assert.equal(first.key, again.key);
  assert.ok(offsets.size > 40, `offsets should spread, got ${offsets.size} distinct of 50`);
});
