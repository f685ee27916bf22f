import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { defaultConfigFile, parseMonitorFlags } from '../../src/cli/monitor.ts';
import { UsageError } from '../../src/cli/output.ts';
import { upMonitorConfig } from '../../src/cli/up.ts';
import { loadRuleFile } from '../../src/monitor/rules/index.ts';
import { parseMonitorConfig } from '../../src/monitor/config.ts';
import { Tsdb } from '../../src/monitor/tsdb/db.ts';
import { Matcher } from '../../src/monitor/tsdb/index/matcher.ts';
import { freePort } from '../_net.ts';

const keel = join(import.meta.dirname, '..', '..', 'bin', 'keel');

interface Result { stdout: string; stderr: string; code: number }

function run(args: readonly string[]): Promise<Result> {
  return new Promise((resolve) => {
    execFile(process.execPath, [keel, ...args], { timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ stdout, stderr, code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1 });
    });
  });
}

async function getJson(url: string): Promise<{ status: string; data: unknown }> {
  const response = await fetch(url);
  return (await response.json()) as { status: string; data: unknown };
}

/** Polls until `probe` returns a value, for up to 30 s (a child process first loads TypeScript). */
async function waitFor<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 300; attempt += 1) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}: ${String(lastError)}`);
}

describe('keel monitor flags', () => {
  it('defaults to Prometheus\'s values, and to the local cluster without a configuration file', () => {
    const flags = parseMonitorFlags([], () => false);
    assert.equal(flags.configFile, undefined);
    assert.equal(flags.storagePath, 'data/');
    assert.equal(flags.retentionTimeMs, 15 * 24 * 3600 * 1000);
    assert.equal(flags.retentionSizeBytes, 0);
    assert.equal(flags.listenAddress, '0.0.0.0:9090');
    assert.equal(flags.logLevel, 'info');
    assert.equal(flags.values['web.listen-address'], '0.0.0.0:9090');
    assert.equal(parseMonitorFlags([], (path) => path === defaultConfigFile).configFile, defaultConfigFile);
  });

  it('reads --flag value and --flag=value', () => {
    const flags = parseMonitorFlags(['--config.file', 'x.yml', '--storage.tsdb.retention.time=12h', '--storage.tsdb.retention.size', '512MB', '--web.listen-address=:9091', '--log.level=debug'], () => false);
    assert.equal(flags.configFile, 'x.yml');
    assert.equal(flags.retentionTimeMs, 12 * 3600 * 1000);
    assert.equal(flags.retentionSizeBytes, 512 * 1024 * 1024);
    assert.equal(flags.listenAddress, ':9091');
    assert.equal(flags.logLevel, 'debug');
  });

  const bad: readonly [readonly string[], RegExp][] = [
    [['--bogus'], /unknown flag --bogus/],
    [['--config.file'], /--config.file needs a value/],
    [['--storage.tsdb.retention.time', '15 days'], /--storage.tsdb.retention.time: not a valid duration string/],
    [['--storage.tsdb.retention.size', '12'], /--storage.tsdb.retention.size: invalid byte size/],
    [['--web.listen-address', '9090'], /--web.listen-address: listen address "9090" is not host:port/],
    [['--log.level', 'loud'], /--log.level must be one of debug, info, warn, error/],
    [['--log.level=info', '--log.level=warn'], /--log.level is given twice/],
    [['extra'], /unexpected argument "extra"/],
  ];
  for (const [argv, message] of bad) {
    it(`refuses ${argv.join(' ')}`, () => {
      assert.throws(() => parseMonitorFlags(argv, () => false), (error: unknown) => error instanceof UsageError && message.test(error.message));
    });
  }
});

describe('keel up\'s monitor configuration', () => {
  it('scrapes every member\'s client URL, labelled with the member\'s name', () => {
    const config = parseMonitorConfig(upMonitorConfig({ members: [
      { name: 'keel1', clientPort: 2379, peerPort: 2380 },
      { name: 'keel2', clientPort: 2381, peerPort: 2382 },
    ] }));
    const [job] = config.scrapeConfigs;
    assert.equal(config.scrapeConfigs.length, 1);
    assert.equal(job!.jobName, 'keel');
    assert.equal(job!.scrapeIntervalMs, 5000);
    assert.deepEqual(job!.staticConfigs.map((group) => [group.targets.map((target) => target.__address__), group.labels]), [
      [['127.0.0.1:2379'], { member: 'keel1' }],
      [['127.0.0.1:2381'], { member: 'keel2' }],
    ]);
  });

  it('loads keel\'s own rules, and the rule file it names exists and parses', async () => {
    const config = parseMonitorConfig(upMonitorConfig({ members: [{ name: 'keel1', clientPort: 2379, peerPort: 2380 }] }));
    assert.equal(config.ruleFiles.length, 1);
    assert.match(config.ruleFiles[0]!, /rules\/keel\.yml$/);
    const groups = await loadRuleFile(config.ruleFiles[0]!);
    assert.ok(groups.length > 0);
  });
});

describe('keel monitor as a process', () => {
  let root: string;
  let exporter: Server;
  let exporterPort: number;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'keel-monitor-cli-'));
    exporter = createServer((_, response) => {
      response.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
      response.end('# HELP app_requests_total Requests.\n# TYPE app_requests_total counter\napp_requests_total 3\n');
    });
    await new Promise<void>((resolve) => exporter.listen(0, '127.0.0.1', resolve));
    exporterPort = (exporter.address() as AddressInfo).port;
  });

  after(async () => {
    await new Promise((resolve) => exporter.close(resolve));
    await rm(root, { recursive: true, force: true });
  });

  it('scrapes its targets, serves the API, and stops cleanly on SIGTERM', async () => {
    const config = join(root, 'monitor.yml');
    await writeFile(config, `global:\n  scrape_interval: 200ms\nscrape_configs:\n  - job_name: app\n    static_configs:\n      - targets: ['127.0.0.1:${exporterPort}']\n`);
    const port = await freePort();
    const child = spawn(process.execPath, [keel, 'monitor', '--config.file', config, '--storage.tsdb.path', join(root, 'data'), '--web.listen-address', `127.0.0.1:${port}`, '--log.level', 'warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    try {
      const base = `http://127.0.0.1:${port}`;
      await waitFor('the listening line', async () => (stdout.includes(`listening on ${base}`) ? true : undefined));
      const health = await waitFor('the target to be up', async () => {
        const targets = (await getJson(`${base}/api/v1/targets`)).data as { activeTargets: { health: string; scrapeUrl: string }[] };
        return targets.activeTargets[0]?.health === 'up' ? targets.activeTargets[0] : undefined;
      });
      assert.equal(health.scrapeUrl, `http://127.0.0.1:${exporterPort}/metrics`);
      const series = await waitFor('the up series', async () => {
        const data = (await getJson(`${base}/api/v1/series?match[]=up`)).data as unknown[];
        return data.length > 0 ? data : undefined;
      });
      assert.deepEqual(series, [{ __name__: 'up', instance: `127.0.0.1:${exporterPort}`, job: 'app' }]);
      const flags = (await getJson(`${base}/api/v1/status/flags`)).data as Record<string, string>;
      assert.equal(flags['config.file'], config);
      const status = (await getJson(`${base}/api/v1/status/config`)).data as { yaml: string };
      assert.match(status.yaml, /job_name: app/);
    } finally {
      stopChild(child);
    }
    assert.equal(await exited, 0, stderr);
  });

  it('import writes an OpenMetrics file into blocks the TSDB then reads', async () => {
    const file = join(root, 'import.om');
    const startSeconds = 1_700_000_000;
    const lines = ['# HELP job_runs_total Runs.', '# TYPE job_runs_total counter'];
    for (let step = 0; step < 10; step += 1) {
      lines.push(`job_runs_total{job="batch"} ${step} ${startSeconds + step * 60}`);
      lines.push(`job_runs_total{job="cron"} ${step * 2} ${startSeconds + step * 60}`);
    }
    await writeFile(file, `${lines.join('\n')}\n# EOF\n`);
    const directory = join(root, 'imported');
    const result = await run(['monitor', 'import', file, '--storage.tsdb.path', directory]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`^imported 20 samples of 2 series from ${file} into ${directory}: 1 block\n`));
    assert.match(result.stdout, /samples from 2023-11-14T22:13:20.000Z to 2023-11-14T22:22:20.000Z/);
    const db = await Tsdb.open(directory, { compactionIntervalMs: 0 });
    try {
      const querier = db.querier(startSeconds * 1000, (startSeconds + 600) * 1000);
      const series = querier.select([new Matcher('=', '__name__', 'job_runs_total')]);
      assert.deepEqual(series.map((entry) => entry.labels.get('job')), ['batch', 'cron']);
      const iterator = series[1]!.iterator();
      const values: number[] = [];
      while (iterator.next()) values.push(iterator.value);
      assert.deepEqual(values, [0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
      querier.close();
    } finally {
      await db.close();
    }
  });

  it('import reports a file that is not OpenMetrics', async () => {
    const file = join(root, 'bad.om');
    await writeFile(file, 'not a metric line at all\n');
    const result = await run(['monitor', 'import', file, '--storage.tsdb.path', join(root, 'bad-import')]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^keel monitor import: /);
    const missing = await run(['monitor', 'import']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /import needs the OpenMetrics FILE to read/);
  });

  it('exits 1 with the reason when the configuration is bad, and 2 on a usage error', async () => {
    const config = join(root, 'bad.yml');
    await writeFile(config, 'scrape_configs:\n  - job_name: x\n    scrape_interval: soon\n');
    const badConfig = await run(['monitor', '--config.file', config, '--storage.tsdb.path', join(root, 'bad-data'), '--web.listen-address', '127.0.0.1:0']);
    assert.equal(badConfig.code, 1);
    assert.match(badConfig.stderr, /^keel monitor: .*soon/m);
    const usage = await run(['monitor', '--web.listen-address', 'nowhere']);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /keel monitor: --web.listen-address: listen address "nowhere" is not host:port/);
  });
});

function stopChild(child: ChildProcess): void {
  if (child.exitCode === null) child.kill('SIGTERM');
}
