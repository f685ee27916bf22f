/**
 * dashboards/keel.json: a valid Grafana dashboard whose every query parses with keel's PromQL parser and
 * reads only metrics a keel member exposes (its registry's output) or the scrape's `up`, and whose
 * latency and quota panels use the expressions of rules/keel.yml.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { childrenOf } from '../../../src/monitor/promql/ast.ts';
import { parseExpr } from '../../../src/monitor/promql/index.ts';
import type { Expr } from '../../../src/monitor/promql/index.ts';
import { loadRuleFile } from '../../../src/monitor/rules/index.ts';
import { MemberMetrics } from '../../../src/server/metrics.ts';

interface Target {
  readonly refId: string;
  readonly expr: string;
  readonly datasource?: { readonly type: string; readonly uid: string };
}

interface Panel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly gridPos: { readonly x: number; readonly y: number; readonly w: number; readonly h: number };
  readonly datasource?: { readonly type: string; readonly uid: string };
  readonly targets?: readonly Target[];
}

interface Dashboard {
  readonly schemaVersion: number;
  readonly uid: string;
  readonly title: string;
  readonly panels: readonly Panel[];
  readonly templating: { readonly list: readonly { readonly name: string; readonly type: string; readonly query: unknown; readonly datasource?: { readonly uid: string } }[] };
}

const dashboard = JSON.parse(await readFile('dashboards/keel.json', 'utf8')) as Dashboard;
const selectors = 'job=~"$job", instance=~"$instance"';

/** Grafana's variables replaced by values a query could take, so the text is plain PromQL. */
function substituteVariables(expression: string): string {
  return expression.replaceAll('$__rate_interval', '1m').replaceAll('$__interval', '1m').replaceAll('$job', 'keel').replaceAll('$instance', 'm1:2379');
}

function metricNames(expr: Expr): string[] {
  if (expr.kind === 'VectorSelector') {
    const name = expr.matchers.find((matcher) => matcher.name === '__name__' && matcher.type === '=');
    assert.ok(name !== undefined, 'every selector names its metric');
    return [name.value];
  }
  return childrenOf(expr).flatMap(metricNames);
}

/** The series names a member exposes: each family, and a histogram's _bucket, _sum and _count. */
async function memberMetricNames(): Promise<Set<string>> {
  const text = await new MemberMetrics({ name: 'm1', version: 'test' }).registry.metrics();
  const names = new Set<string>();
  for (const match of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name, type] = match as unknown as [string, string, string];
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
    else if (type === 'summary') for (const suffix of ['', '_sum', '_count']) names.add(name + suffix);
    else names.add(name);
  }
  return names;
}

const targets = dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ panel, target })));

test('the dashboard is a Grafana dashboard with a Prometheus data source variable', () => {
  assert.ok(dashboard.schemaVersion >= 36 && dashboard.schemaVersion <= 39, `schemaVersion ${dashboard.schemaVersion}`);
  assert.equal(dashboard.uid, 'keel-overview');
  const datasource = dashboard.templating.list.find((variable) => variable.name === 'datasource');
  assert.deepEqual([datasource?.type, datasource?.query], ['datasource', 'prometheus']);
  const ids = dashboard.panels.map((panel) => panel.id);
  assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
  for (const panel of dashboard.panels) {
    if (panel.type === 'row') continue;
    assert.deepEqual(panel.datasource, { type: 'prometheus', uid: '${datasource}' }, panel.title);
    assert.ok((panel.targets ?? []).length > 0, `${panel.title} has queries`);
    for (const target of panel.targets ?? []) assert.equal(target.datasource?.uid, '${datasource}', panel.title);
  }
});

test('panels fit the 24-column grid without overlapping', () => {
  const cells = new Map<string, string>();
  for (const panel of dashboard.panels) {
    const { x, y, w, h } = panel.gridPos;
    assert.ok(x >= 0 && w > 0 && x + w <= 24 && h > 0, `${panel.title} fits`);
    for (let column = x; column < x + w; column += 1) {
      for (let row = y; row < y + h; row += 1) {
        const key = `${column},${row}`;
        assert.equal(cells.get(key), undefined, `${panel.title} overlaps ${cells.get(key) ?? ''}`);
        cells.set(key, panel.title);
      }
    }
  }
});

test('every query parses with keel\'s PromQL parser and reads only metrics a member exposes', async () => {
  const known = await memberMetricNames();
  known.add('up');
  assert.ok(targets.length >= 25);
  for (const { panel, target } of targets) {
    const expr = parseExpr(substituteVariables(target.expr));
    for (const name of metricNames(expr)) assert.ok(known.has(name), `${panel.title}: ${name} is not a member metric`);
  }
  for (const variable of dashboard.templating.list.filter((candidate) => candidate.type === 'query')) {
    const query = (variable.query as { query: string }).query;
    const selector = /^label_values\((.*), \w+\)$/.exec(query)?.[1];
    assert.ok(selector !== undefined, query);
    for (const name of metricNames(parseExpr(substituteVariables(selector)))) assert.ok(known.has(name), `variable ${variable.name}: ${name}`);
  }
});

test('a misspelt metric name would be caught', async () => {
  const known = await memberMetricNames();
  assert.ok(!known.has('keel_server_has_leaders'));
  assert.deepEqual(metricNames(parseExpr('rate(keel_server_has_leaders[1m]) / on () keel_mvcc_keys')), ['keel_server_has_leaders', 'keel_mvcc_keys']);
});

test('the dashboard covers leadership, proposals, disk, network, store, gRPC and the process', () => {
  const used = new Set(targets.flatMap(({ target }) => metricNames(parseExpr(substituteVariables(target.expr)))));
  for (const name of [
    'keel_server_has_leader', 'keel_server_is_leader', 'keel_server_leader_changes_seen_total', 'keel_server_proposals_committed_total',
    'keel_server_proposals_applied_total', 'keel_server_proposals_pending', 'keel_server_proposals_failed_total', 'keel_disk_wal_fsync_duration_seconds_bucket',
    'keel_network_peer_round_trip_time_seconds_bucket', 'keel_mvcc_db_total_size_bytes', 'keel_server_quota_backend_bytes', 'keel_mvcc_keys', 'keel_mvcc_revision',
    'keel_grpc_server_started_total', 'keel_grpc_server_handled_total', 'keel_mvcc_watchers', 'keel_lease_active', 'process_cpu_seconds_total',
    'process_resident_memory_bytes', 'nodejs_eventloop_lag_p99_seconds',
  ]) {
    assert.ok(used.has(name), `no panel shows ${name}`);
  }
});

test('the latency and quota panels use the expressions of rules/keel.yml', async () => {
  const panelExpressions = new Set(targets.map(({ target }) => target.expr.replaceAll(`{${selectors}}`, '')));
  const recorded = (await loadRuleFile('rules/keel.yml')).flatMap((group) => group.rules).filter((rule) => rule.kind === 'recording' && rule.name.startsWith('keel:'));
  assert.equal(recorded.length, 3);
  for (const rule of recorded) assert.ok(panelExpressions.has(rule.query), `a panel shows ${rule.name}: ${rule.query}`);
});
