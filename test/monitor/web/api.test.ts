import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { get as httpGet, type IncomingHttpHeaders } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Appendable, Queryable } from '../../../src/monitor/storage.ts';
import { createQueryService } from '../../../src/monitor/monitor.ts';
import { Tsdb } from '../../../src/monitor/tsdb/db.ts';
import { ApiError, formBodyBytesMax, QueryParseError, type QueryService, type WebServer } from '../../../src/monitor/web/index.ts';
import { appendSeries, get, send, startApi } from './_helpers.ts';
import { MemoryStore } from './_memory-store.ts';

const base = 1_700_000_000_000;

/** Five series; the `old` ones have samples only before base + 100 s. */
async function fill(store: Appendable): Promise<void> {
  await appendSeries(store, [
    { labels: { __name__: 'up', job: 'keel', instance: 'a:1' }, samples: [[base + 100_000, 1], [base + 200_000, 1]] },
    { labels: { __name__: 'up', job: 'keel', instance: 'b:1' }, samples: [[base + 150_000, 0]] },
    { labels: { __name__: 'up', job: 'etcd', instance: 'c:1' }, samples: [[base + 200_000, 1]] },
    { labels: { __name__: 'requests_total', job: 'keel', code: '200' }, samples: [[base + 10_000, 5]] },
    { labels: { __name__: 'old_metric', job: 'old', zone: 'z1' }, samples: [[base, 7]] },
  ]);
}

/** The stores the series endpoints are tested against: keel's TSDB, and the simple reference store. */
const stores: readonly [string, () => Promise<{ store: Appendable & Queryable; close: () => Promise<void> }>][] = [
  ['the TSDB', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'keel-web-api-'));
    const db = await Tsdb.open(directory, { compactionIntervalMs: 0 });
    return { store: db, close: async () => {
      await db.close();
      await rm(directory, { recursive: true, force: true });
    } };
  }],
  ['the reference store', async () => ({ store: new MemoryStore(), close: async () => {} })],
];

for (const [storeName, openStore] of stores) describe(`the series endpoints over ${storeName}`, () => {
  let store: Appendable & Queryable;
  let closeStore: () => Promise<void>;
  let server: WebServer;
  before(async () => {
    ({ store, close: closeStore } = await openStore());
    await fill(store);
    server = await startApi({ queryable: store });
  });
  after(async () => {
    await server.close();
    await closeStore();
  });

  it('/api/v1/series lists the matching series sorted by labels', async () => {
    const answer = await get(server.url, '/api/v1/series', [['match[]', 'up{job="keel"}']]);
    assert.equal(answer.status, 200);
    assert.equal(answer.headers['content-type'], 'application/json');
    assert.deepEqual(answer.json, {
      status: 'success',
      data: [
        { __name__: 'up', instance: 'a:1', job: 'keel' },
        { __name__: 'up', instance: 'b:1', job: 'keel' },
      ],
    });
  });

  it('/api/v1/series unites several match[] without duplicates', async () => {
    const answer = await get(server.url, '/api/v1/series', [['match[]', 'up{job="keel"}'], ['match[]', '{instance=~"a:1|c:1"}']]);
    assert.deepEqual(answer.json?.data, [
      { __name__: 'up', instance: 'a:1', job: 'keel' },
      { __name__: 'up', instance: 'b:1', job: 'keel' },
      { __name__: 'up', instance: 'c:1', job: 'etcd' },
    ]);
  });

  it('/api/v1/series keeps only series with samples between start and end', async () => {
    const seconds = (offsetMs: number) => String((base + offsetMs) / 1000);
    const answer = await get(server.url, '/api/v1/series', [['match[]', '{job=~".+"}'], ['start', seconds(120_000)], ['end', seconds(160_000)]]);
    assert.deepEqual(answer.json?.data, [{ __name__: 'up', instance: 'b:1', job: 'keel' }]);
    const rfc = await get(server.url, '/api/v1/series', [['match[]', '{job=~".+"}'], ['end', new Date(base + 5_000).toISOString()]]);
    assert.deepEqual(rfc.json?.data, [{ __name__: 'old_metric', job: 'old', zone: 'z1' }]);
  });

  it('/api/v1/series answers an empty list when end is before start', async () => {
    const answer = await get(server.url, '/api/v1/series', [['match[]', 'up'], ['start', '2000'], ['end', '1000']]);
    assert.deepEqual(answer.json, { status: 'success', data: [] });
  });

  it('/api/v1/series takes match[] from a POSTed form', async () => {
    const answer = await send(`${server.url}/api/v1/series`, { method: 'POST', body: new URLSearchParams([['match[]', 'up{job="etcd"}']]).toString() });
    assert.deepEqual(answer.json?.data, [{ __name__: 'up', instance: 'c:1', job: 'etcd' }]);
  });

  it('/api/v1/series cuts the answer at limit with a warning', async () => {
    const answer = await get(server.url, '/api/v1/series', [['match[]', 'up'], ['limit', '2']]);
    assert.equal((answer.json?.data as unknown[]).length, 2);
    assert.deepEqual(answer.json?.warnings, ['results truncated due to limit']);
    const bad = await get(server.url, '/api/v1/series', [['match[]', 'up'], ['limit', '-1']]);
    assert.equal(bad.status, 400);
    assert.equal(bad.json?.error, 'invalid parameter "limit": limit must be non-negative');
  });

  it('/api/v1/labels lists every label name, or those of matching series', async () => {
    const all = await get(server.url, '/api/v1/labels');
    assert.deepEqual(all.json?.data, ['__name__', 'code', 'instance', 'job', 'zone']);
    const matched = await get(server.url, '/api/v1/labels', [['match[]', 'requests_total'], ['match[]', 'old_metric']]);
    assert.deepEqual(matched.json?.data, ['__name__', 'code', 'job', 'zone']);
    const recent = await get(server.url, '/api/v1/labels', [['match[]', '{job=~".+"}'], ['start', String((base + 50_000) / 1000)]]);
    assert.deepEqual(recent.json?.data, ['__name__', 'instance', 'job']);
    const before = await get(server.url, '/api/v1/labels', [['end', String((base - 86_400_000) / 1000)]]);
    assert.deepEqual(before.json?.data, []);
  });

  it('/api/v1/label/<name>/values lists the values, or those of matching series', async () => {
    const all = await get(server.url, '/api/v1/label/job/values');
    assert.deepEqual(all.json, { status: 'success', data: ['etcd', 'keel', 'old'] });
    const matched = await get(server.url, '/api/v1/label/instance/values', [['match[]', 'up{job="keel"}']]);
    assert.deepEqual(matched.json?.data, ['a:1', 'b:1']);
    const names = await get(server.url, '/api/v1/label/__name__/values', [['match[]', '{job=~".+"}'], ['end', String(base / 1000)]]);
    assert.deepEqual(names.json?.data, ['old_metric']);
    const before = await get(server.url, '/api/v1/label/job/values', [['end', String((base - 86_400_000) / 1000)]]);
    assert.deepEqual(before.json?.data, []);
  });

});

it('closes every querier it opens', async () => {
  const store = new MemoryStore();
  await fill(store);
  const server = await startApi({ queryable: store });
  await get(server.url, '/api/v1/series', [['match[]', 'up']]);
  await get(server.url, '/api/v1/series', [['match[]', 'up'], ['limit', '1']]);
  await get(server.url, '/api/v1/labels', [['match[]', 'up']]);
  await get(server.url, '/api/v1/label/job/values');
  await server.close();
  assert.equal(store.openQueriers, 0);
});

describe('bad input gets Prometheus\'s errors', () => {
  const store = new MemoryStore();
  let server: WebServer;
  before(async () => {
    await fill(store);
    server = await startApi({ queryable: store });
  });
  after(() => server.close());

  const cases: readonly [string, readonly [string, string][], number, string][] = [
    ['/api/v1/series', [], 400, 'no match[] parameter provided'],
    ['/api/v1/series', [['match[]', 'up'], ['start', 'abc']], 400, 'invalid parameter "start": Invalid time value for \'start\': cannot parse "abc" to a valid timestamp'],
    ['/api/v1/series', [['match[]', 'up'], ['end', '0x10']], 400, 'invalid parameter "end": Invalid time value for \'end\': cannot parse "0x10" to a valid timestamp'],
    ['/api/v1/series', [['match[]', 'up{']], 400, 'invalid parameter "match[]": 1:4: parse error: unexpected end of input inside braces'],
    ['/api/v1/series', [['match[]', '{a=""}']], 400, 'invalid parameter "match[]": match[] must contain at least one non-empty matcher'],
    ['/api/v1/series', [['match[]', '{}']], 400, 'invalid parameter "match[]": match[] must contain at least one non-empty matcher'],
    ['/api/v1/labels', [['match[]', 'up{']], 400, '1:4: parse error: unexpected end of input inside braces'],
    ['/api/v1/labels', [['match[]', '{}']], 400, 'match[] must contain at least one non-empty matcher'],
    ['/api/v1/labels', [['start', 'x']], 400, 'invalid parameter "start": Invalid time value for \'start\': cannot parse "x" to a valid timestamp'],
    ['/api/v1/label/0bad/values', [], 400, 'invalid label name: "0bad"'],
    ['/api/v1/label/job/values', [['end', 'x']], 400, 'invalid parameter "end": Invalid time value for \'end\': cannot parse "x" to a valid timestamp'],
    ['/api/v1/metadata', [['limit', 'x']], 400, 'limit must be a number'],
    ['/api/v1/query', [['query', 'up']], 503, 'PromQL queries are not available in this keel build'],
    ['/api/v1/query_exemplars', [['query', 'up'], ['start', 'x']], 400, 'invalid parameter "start": Invalid time value for \'start\': cannot parse "x" to a valid timestamp'],
    ['/api/v1/query_exemplars', [['query', 'up'], ['start', '3'], ['end', '2']], 400, 'end timestamp must not be before start timestamp'],
  ];
  for (const [path, parameters, status, message] of cases) {
    it(`${path} ${new URLSearchParams(parameters.map(([name, value]): [string, string] => [name, value])).toString()} → ${status}`, async () => {
      const answer = await get(server.url, path, parameters);
      assert.equal(answer.status, status);
      assert.equal(answer.json?.status, 'error');
      assert.equal(answer.json?.errorType, status === 400 ? 'bad_data' : 'unavailable');
      assert.equal(answer.json?.error, message);
    });
  }

  it('/api/v1/query_exemplars answers an empty list: keel stores no exemplars', async () => {
    const answer = await get(server.url, '/api/v1/query_exemplars', [['query', 'up'], ['start', '1'], ['end', '2']]);
    assert.deepEqual(answer.json, { status: 'success', data: [] });
  });

  it('/api/v1/rules and /api/v1/alerts answer empty lists without a rule manager', async () => {
    assert.deepEqual((await get(server.url, '/api/v1/rules')).json, { status: 'success', data: { groups: [] } });
    assert.deepEqual((await get(server.url, '/api/v1/alerts')).json, { status: 'success', data: { alerts: [] } });
    const bad = await get(server.url, '/api/v1/rules', [['type', 'bogus']]);
    assert.equal(bad.json?.error, 'invalid parameter "type": not supported value "bogus"');
  });

  it('escapes <, > and & in JSON as Go does', async () => {
    const answer = await get(server.url, '/api/v1/series', [['match[]', 'up and on']]);
    assert.equal(answer.status, 400);
    assert.match(answer.text, /unexpected \\u003cop:and\\u003e/);
  });

  it('answers 404 for unknown paths and 405 for wrong methods, in plain text', async () => {
    for (const path of ['/api/v1/nothing', '/api/v2/series', '/graph']) {
      const answer = await get(server.url, path);
      assert.equal(answer.status, 404, path);
      assert.equal(answer.text, '404 page not found\n');
    }
    const wrong = await send(`${server.url}/api/v1/targets`, { method: 'PUT' });
    assert.equal(wrong.status, 405);
    assert.equal(wrong.headers.allow, 'GET, OPTIONS');
    const values = await send(`${server.url}/api/v1/label/job/values`, { method: 'POST' });
    assert.equal(values.status, 405);
  });

  it('refuses a form body above its bound', async () => {
    const answer = await send(`${server.url}/api/v1/series`, { method: 'POST', body: `match[]=${'a'.repeat(formBodyBytesMax)}` });
    assert.equal(answer.status, 400);
    assert.equal(answer.json?.error, `error parsing form values: request body is larger than ${formBodyBytesMax} bytes`);
  });

  it('refuses a malformed percent escape', async () => {
    const answer = await send(`${server.url}/api/v1/series?match[]=%zzup`);
    assert.equal(answer.status, 400);
    assert.equal(answer.json?.error, 'error parsing form values: invalid URL escape "%zz"');
  });

  it('sends CORS headers to browsers and answers OPTIONS with 204', async () => {
    const plain = await get(server.url, '/api/v1/labels');
    assert.equal(plain.headers['access-control-allow-origin'], undefined);
    const browser = await send(`${server.url}/api/v1/labels`, { headers: { Origin: 'http://grafana.example' } });
    assert.equal(browser.headers['access-control-allow-origin'], '*');
    assert.equal(browser.headers['access-control-allow-methods'], 'GET, POST, OPTIONS');
    const preflight = await send(`${server.url}/api/v1/query`, { method: 'OPTIONS', headers: { Origin: 'http://grafana.example' } });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers['access-control-allow-origin'], '*');
  });
});

describe('the query endpoints over the PromQL engine and the TSDB', () => {
  let directory: string;
  let db: Tsdb;
  let server: WebServer;
  before(async () => {
    directory = await mkdtemp(join(tmpdir(), 'keel-web-query-'));
    db = await Tsdb.open(directory, { compactionIntervalMs: 0 });
    await fill(db);
    server = await startApi({ queryable: db, query: createQueryService(db) });
  });
  after(async () => {
    await server.close();
    await db.close();
    await rm(directory, { recursive: true, force: true });
  });

  it('/api/v1/query answers with Prometheus\'s exact bytes', async () => {
    const answer = await get(server.url, '/api/v1/query', [['query', 'sum by (job) (up{job="keel"})'], ['time', String((base + 200_500) / 1000)]]);
    assert.equal(answer.text, '{"status":"success","data":{"resultType":"vector","result":[{"metric":{"job":"keel"},"value":[1700000200.500,"1"]}]}}');
  });

  it('/api/v1/query_range evaluates every step', async () => {
    const answer = await get(server.url, '/api/v1/query_range', [['query', 'up{instance="a:1"}'], ['start', String((base + 100_000) / 1000)], ['end', String((base + 200_000) / 1000)], ['step', '50']]);
    assert.deepEqual(answer.json?.data, { resultType: 'matrix', result: [{ metric: { __name__: 'up', instance: 'a:1', job: 'keel' }, values: [[1700000100, '1'], [1700000150, '1'], [1700000200, '1']] }] });
  });

  it('reports the engine\'s errors with Prometheus\'s types and wording', async () => {
    const parse = await get(server.url, '/api/v1/query', [['query', 'up{']]);
    assert.equal(parse.status, 400);
    assert.equal(parse.json?.error, 'invalid parameter "query": 1:4: parse error: unexpected end of input inside braces');
    const rangeParse = await get(server.url, '/api/v1/query_range', [['query', 'up{'], ['start', '1'], ['end', '2'], ['step', '1']]);
    assert.equal(rangeParse.json?.error, '1:4: parse error: unexpected end of input inside braces');
    const unknown = await get(server.url, '/api/v1/query', [['query', 'foo(1)']]);
    assert.equal(unknown.json?.error, 'invalid parameter "query": 1:1: parse error: unknown function with name "foo"');
  });
});

describe('the query endpoints', () => {
  const calls: string[] = [];
  const engine: QueryService = {
    async instantQuery(query, timeMs, timeoutMs) {
      calls.push(`instant ${query} ${timeMs} ${timeoutMs}`);
      if (query === 'bad{') throw new QueryParseError('1:5: parse error: unexpected end of input inside braces');
      if (query === 'slow') throw new ApiError('timeout', 'query timed out in expression evaluation');
      if (query === 'boom') throw new Error('too many samples');
      return { data: { resultType: 'scalar', result: [timeMs / 1000, '1'] } };
    },
    async rangeQuery(query, range, timeoutMs) {
      calls.push(`range ${query} ${range.startMs} ${range.endMs} ${range.stepMs} ${timeoutMs}`);
      if (query === 'bad{') throw new QueryParseError('1:5: parse error: unexpected end of input inside braces');
      return { dataJson: '{"resultType":"matrix","result":[]}', warnings: ['partial'] };
    },
  };
  let server: WebServer;
  before(async () => {
    server = await startApi({ queryable: new MemoryStore(), query: engine, now: () => 5000 });
  });
  after(() => server.close());

  it('/api/v1/query evaluates at `time`, or now, with the timeout bounded by the server\'s', async () => {
    const answer = await get(server.url, '/api/v1/query', [['query', '1'], ['time', '12.5']]);
    assert.deepEqual(answer.json, { status: 'success', data: { resultType: 'scalar', result: [12.5, '1'] } });
    await get(server.url, '/api/v1/query', [['query', '1'], ['timeout', '10s']]);
    const posted = await send(`${server.url}/api/v1/query`, { method: 'POST', body: 'query=1&timeout=1h' });
    assert.equal(posted.status, 200);
    assert.deepEqual(calls.splice(0), ['instant 1 12500 120000', 'instant 1 5000 10000', 'instant 1 5000 120000']);
  });

  it('/api/v1/query reports parse, timeout and execution errors with their types', async () => {
    const parse = await get(server.url, '/api/v1/query', [['query', 'bad{']]);
    assert.equal(parse.status, 400);
    assert.equal(parse.json?.error, 'invalid parameter "query": 1:5: parse error: unexpected end of input inside braces');
    const timeout = await get(server.url, '/api/v1/query', [['query', 'slow']]);
    assert.equal(timeout.status, 503);
    assert.equal(timeout.json?.errorType, 'timeout');
    const failed = await get(server.url, '/api/v1/query', [['query', 'boom']]);
    assert.equal(failed.status, 422);
    assert.equal(failed.json?.errorType, 'execution');
    const badTime = await get(server.url, '/api/v1/query', [['query', '1'], ['time', 'x']]);
    assert.equal(badTime.json?.error, 'invalid parameter "time": Invalid time value for \'time\': cannot parse "x" to a valid timestamp');
    const badTimeout = await get(server.url, '/api/v1/query', [['query', '1'], ['timeout', '-1s']]);
    assert.equal(badTimeout.json?.error, 'invalid parameter "timeout": cannot parse "-1s" to a valid duration');
    calls.length = 0;
  });

  it('/api/v1/query_range checks start, end and step as Prometheus does', async () => {
    const range = (start: string, end: string, step: string) => get(server.url, '/api/v1/query_range', [['query', 'up'], ['start', start], ['end', end], ['step', step]]);
    assert.equal((await range('', '2', '1')).json?.error, 'invalid parameter "start": cannot parse "" to a valid timestamp');
    assert.equal((await range('3', '2', '1')).json?.error, 'invalid parameter "end": end timestamp must not be before start time');
    assert.equal((await range('1', '2', 'x')).json?.error, 'invalid parameter "step": cannot parse "x" to a valid duration');
    assert.equal((await range('1', '2', '0')).json?.error, 'invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer');
    assert.equal((await range('1', '200000', '1')).json?.error, 'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)');
    assert.deepEqual(calls, []);
    const ok = await range('1', '61', '15s');
    assert.deepEqual(ok.json, { status: 'success', data: { resultType: 'matrix', result: [] }, warnings: ['partial'] });
    assert.deepEqual(calls.splice(0), ['range up 1000 61000 15000 120000']);
    const parse = await get(server.url, '/api/v1/query_range', [['query', 'bad{'], ['start', '1'], ['end', '2'], ['step', '1']]);
    assert.equal(parse.json?.error, '1:5: parse error: unexpected end of input inside braces');
  });
});

describe('status and lifecycle endpoints', () => {
  let reloads = 0;
  let failReload = false;
  let ready = false;
  let server: WebServer;
  before(async () => {
    server = await startApi({
      queryable: new MemoryStore(),
      configText: () => 'global:\n  scrape_interval: 15s\n',
      flags: { 'config.file': 'keel-monitor.yml', 'web.listen-address': '127.0.0.1:0' },
      reload: async () => {
        if (failReload) throw new Error('bad config: line 3');
        reloads += 1;
      },
      ready: () => ready,
    });
  });
  after(() => server.close());

  it('answers 503 until ready, then serves', async () => {
    assert.equal((await get(server.url, '/-/ready')).status, 503);
    assert.equal((await get(server.url, '/api/v1/labels')).status, 503);
    assert.equal((await get(server.url, '/-/healthy')).status, 200);
    ready = true;
    const answer = await get(server.url, '/-/ready');
    assert.equal(answer.status, 200);
    assert.equal(answer.text, 'Keel Monitor is Ready.\n');
  });

  it('serves build info, runtime info, flags and the configuration', async () => {
    ready = true;
    assert.deepEqual((await get(server.url, '/api/v1/status/buildinfo')).json?.data, { version: '2.42.0', revision: 'keel test', branch: '', buildUser: '', buildDate: '', goVersion: '' });
    assert.equal(((await get(server.url, '/api/v1/status/runtimeinfo')).json?.data as { storageRetention: string }).storageRetention, '15d');
    assert.deepEqual((await get(server.url, '/api/v1/status/flags')).json?.data, { 'config.file': 'keel-monitor.yml', 'web.listen-address': '127.0.0.1:0' });
    assert.deepEqual((await get(server.url, '/api/v1/status/config')).json?.data, { yaml: 'global:\n  scrape_interval: 15s\n' });
    const tsdb = await get(server.url, '/api/v1/status/tsdb');
    assert.equal(tsdb.status, 503);
    assert.equal(tsdb.json?.errorType, 'unavailable');
  });

  it('/-/reload reloads on POST, reports failures, and refuses GET', async () => {
    ready = true;
    const ok = await send(`${server.url}/-/reload`, { method: 'POST' });
    assert.equal(ok.status, 200);
    assert.equal(reloads, 1);
    failReload = true;
    const failed = await send(`${server.url}/-/reload`, { method: 'POST' });
    assert.equal(failed.status, 500);
    assert.equal(failed.text, 'failed to reload config: bad config: line 3\n');
    const wrong = await get(server.url, '/-/reload');
    assert.equal(wrong.status, 405);
    assert.equal(reloads, 1);
  });
});

it('gzips long answers for clients that accept it', async () => {
  const yaml = `# ${'x'.repeat(5000)}\n`;
  const server = await startApi({ queryable: new MemoryStore(), configText: () => yaml });
  try {
    const compressed = await sendRaw(`${server.url}/api/v1/status/config`, { 'Accept-Encoding': 'gzip, deflate' });
    assert.equal(compressed.headers['content-encoding'], 'gzip');
    assert.ok(compressed.body.length < 1000);
    assert.deepEqual(JSON.parse(gunzipSync(compressed.body).toString('utf8')), { status: 'success', data: { yaml } });
    const plain = await sendRaw(`${server.url}/api/v1/status/config`, {});
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.deepEqual(JSON.parse(plain.body.toString('utf8')), { status: 'success', data: { yaml } });
  } finally {
    await server.close();
  }
});

function sendRaw(url: string, headers: Record<string, string>): Promise<{ headers: IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    httpGet(url, { headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ headers: response.headers, body: Buffer.concat(chunks) }));
    }).on('error', reject);
  });
}
