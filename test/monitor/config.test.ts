import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConfigError, configCharactersMax, formatDuration, loadMonitorConfig, parseByteSize, parseDurationMs, parseMonitorConfig, queueConfigDefault,
} from '../../src/monitor/config.ts';
import type { ConfigErrorCode } from '../../src/monitor/config.ts';

/** Asserts that parsing fails with `code`, a message containing `text`, at `line` and `path` when given. */
function assertConfigError(yaml: string, code: ConfigErrorCode, text: string, where: { line?: number; path?: string } = {}): void {
  assert.throws(() => parseMonitorConfig(yaml, 'prometheus.yml'), (error: unknown) => {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.ok(error.message.includes(text), `${JSON.stringify(error.message)} should contain ${JSON.stringify(text)}`);
    assert.ok(error.message.startsWith('prometheus.yml:'), error.message);
    if (where.line !== undefined) assert.equal(error.line, where.line, error.message);
    if (where.path !== undefined) assert.equal(error.path, where.path, error.message);
    return true;
  });
}

test('an empty file gets Prometheus defaults', () => {
  const config = parseMonitorConfig('');
  assert.equal(config.global.scrapeIntervalMs, 60_000);
  assert.equal(config.global.scrapeTimeoutMs, 10_000);
  assert.equal(config.global.evaluationIntervalMs, 60_000);
  assert.equal(config.global.externalLabels.size, 0);
  assert.deepEqual(config.scrapeConfigs, []);
  assert.deepEqual(config.ruleFiles, []);
  assert.deepEqual(config.remoteWrite, []);
  assert.deepEqual(config.alerting.alertmanagers, []);
});

test('a scrape config takes its defaults from global, with the timeout capped by the interval', () => {
  const config = parseMonitorConfig(`
global:
  scrape_interval: 15s
  scrape_timeout: 12s
scrape_configs:
  - job_name: plain
    static_configs: [{targets: ['a:1']}]
  - job_name: fast
    scrape_interval: 5s
  - job_name: custom
    scrape_interval: 1m
    scrape_timeout: 30s
    metrics_path: /probe
    scheme: https
    honor_labels: true
    honor_timestamps: false
    params: {module: [http_2xx], target: [a, b]}
    sample_limit: 1000
    label_limit: 30
    label_name_length_limit: 100
    label_value_length_limit: 200
    body_size_limit: 10MB
    target_limit: 50
`);
  const [plain, fast, custom] = config.scrapeConfigs;
  assert.ok(plain !== undefined && fast !== undefined && custom !== undefined);
  assert.deepEqual([plain.scrapeIntervalMs, plain.scrapeTimeoutMs], [15_000, 12_000]);
  assert.equal(plain.metricsPath, '/metrics');
  assert.equal(plain.scheme, 'http');
  assert.equal(plain.honorLabels, false);
  assert.equal(plain.honorTimestamps, true);
  assert.deepEqual(plain.staticConfigs, [{ source: '0', targets: [{ __address__: 'a:1' }], labels: {} }]);
  assert.deepEqual([plain.sampleLimit, plain.bodySizeLimitBytes, plain.targetLimit], [0, 0, 0]);
  assert.deepEqual([fast.scrapeIntervalMs, fast.scrapeTimeoutMs], [5000, 5000]);
  assert.deepEqual([custom.scrapeIntervalMs, custom.scrapeTimeoutMs], [60_000, 30_000]);
  assert.equal(custom.metricsPath, '/probe');
  assert.equal(custom.scheme, 'https');
  assert.equal(custom.honorLabels, true);
  assert.equal(custom.honorTimestamps, false);
  assert.deepEqual(custom.params, { module: ['http_2xx'], target: ['a', 'b'] });
  assert.deepEqual(
    [custom.sampleLimit, custom.labelLimit, custom.labelNameLengthLimit, custom.labelValueLengthLimit, custom.bodySizeLimitBytes, custom.targetLimit],
    [1000, 30, 100, 200, 10 * 1024 * 1024, 50],
  );
});

test('every section is parsed into typed values with defaults', () => {
  const config = parseMonitorConfig(`
global:
  evaluation_interval: 30s
  external_labels: {region: eu-1, replica: a}
rule_files: [rules/*.yml, /abs/alerts.yml]
alerting:
  alertmanagers:
    - static_configs: [{targets: ['am:9093']}]
      path_prefix: /am
  alert_relabel_configs:
    - action: labeldrop
      regex: replica
remote_write:
  - url: http://remote:9201/write
    headers: {X-Scope-OrgID: team}
    queue_config: {max_shards: 10}
    write_relabel_configs:
      - source_labels: [__name__]
        regex: expensive_.*
        action: drop
scrape_configs:
  - job_name: files
    file_sd_configs:
      - files: [targets/*.json]
  - job_name: keel
    keel_sd_configs:
      - endpoints: ['127.0.0.1:2379', 'http://127.0.0.1:22379']
        refresh_interval: 10s
`, '/etc/keel/prometheus.yml');
  assert.equal(config.global.evaluationIntervalMs, 30_000);
  assert.equal(config.global.externalLabels.toString(), '{region="eu-1", replica="a"}');
  assert.deepEqual(config.ruleFiles, ['/etc/keel/rules/*.yml', '/abs/alerts.yml']);
  const manager = config.alerting.alertmanagers[0];
  assert.ok(manager !== undefined);
  assert.deepEqual([manager.scheme, manager.pathPrefix, manager.timeoutMs, manager.apiVersion], ['http', '/am', 10_000, 'v2']);
  assert.deepEqual(manager.staticConfigs[0]?.targets, [{ __address__: 'am:9093' }]);
  assert.equal(config.alerting.alertRelabelConfigs[0]?.action, 'labeldrop');
  const remote = config.remoteWrite[0];
  assert.ok(remote !== undefined);
  assert.equal(remote.url, 'http://remote:9201/write');
  assert.equal(remote.remoteTimeoutMs, 30_000);
  assert.deepEqual(remote.headers, { 'X-Scope-OrgID': 'team' });
  assert.deepEqual(remote.queueConfig, { ...queueConfigDefault, maxShards: 10 });
  assert.equal(remote.writeRelabelConfigs[0]?.action, 'drop');
  assert.deepEqual(config.scrapeConfigs[0]?.fileSdConfigs, [{ files: ['/etc/keel/targets/*.json'], refreshIntervalMs: 5 * 60_000 }]);
  assert.deepEqual(config.scrapeConfigs[1]?.keelSdConfigs, [{ endpoints: ['127.0.0.1:2379', 'http://127.0.0.1:22379'], refreshIntervalMs: 10_000 }]);
  assert.equal(config.fileName, '/etc/keel/prometheus.yml');
});

test('Prometheus durations parse and print as Prometheus does', () => {
  const parsed: [string, number][] = [
    ['0', 0], ['15s', 15_000], ['1h30m', 5_400_000], ['500ms', 500], ['1d', 86_400_000], ['1w', 604_800_000],
    ['1y', 31_536_000_000], ['1y2w3d4h5m6s7ms', 31_536_000_000 + 2 * 604_800_000 + 3 * 86_400_000 + 4 * 3_600_000 + 5 * 60_000 + 6000 + 7],
  ];
  for (const [text, milliseconds] of parsed) assert.equal(parseDurationMs(text), milliseconds, text);
  for (const text of ['', '1', '1.5s', '-1s', '5x', '1m1h', '1h1h', 's', '10 s', '1e3s']) {
    assert.throws(() => parseDurationMs(text), { message: `not a valid duration string: ${JSON.stringify(text)}` }, text);
  }
  assert.throws(() => parseDurationMs('300y'), /duration out of range/);
  const printed: [number, string][] = [[0, '0s'], [5_400_000, '1h30m'], [1500, '1s500ms'], [14 * 86_400_000, '2w'], [90 * 86_400_000, '90d'], [365 * 86_400_000, '1y'], [100, '100ms']];
  for (const [milliseconds, text] of printed) assert.equal(formatDuration(milliseconds), text, text);
});

test('byte sizes use base-2 units, as Prometheus body_size_limit', () => {
  const parsed: [string, number][] = [['0', 0], ['10MB', 10_485_760], ['1KiB', 1024], ['1.5KB', 1536], ['100B', 100], ['1GB512MB', 1024 ** 3 + 512 * 1024 ** 2]];
  for (const [text, bytes] of parsed) assert.equal(parseByteSize(text), bytes, text);
  for (const text of ['', '1000', '10XB', 'MB', '.MB', '-1MB']) assert.throws(() => parseByteSize(text), /invalid byte size/, text);
});

test('unknown fields fail with Go’s wording, the file, line, column and field path', () => {
  assertConfigError('scrape_configs:\n  - job_name: a\n    scrape_intervall: 5s\n', 'CONFIG_UNKNOWN_FIELD', 'field scrape_intervall not found in type config.ScrapeConfig', { line: 3, path: 'scrape_configs[0].scrape_intervall' });
  assertConfigError('globl: {}\n', 'CONFIG_UNKNOWN_FIELD', 'field globl not found in type config.Config', { line: 1, path: 'globl' });
  assertConfigError('scrape_configs:\n  - job_name: a\n    relabel_configs: [{action: keep, regexp: a}]\n', 'CONFIG_UNKNOWN_FIELD', 'field regexp not found in type relabel.Config');
  assertConfigError('scrape_configs:\n  - job_name: a\n    static_configs: [{target: [a]}]\n', 'CONFIG_UNKNOWN_FIELD', 'field target not found in type targetgroup.Group');
  assertConfigError('remote_read: []\n', 'CONFIG_UNKNOWN_FIELD', 'field remote_read of config.Config is not supported by keel');
  assertConfigError('scrape_configs:\n  - job_name: a\n    basic_auth: {username: u}\n', 'CONFIG_UNKNOWN_FIELD', 'field basic_auth of config.ScrapeConfig is not supported by keel');
  assertConfigError('scrape_configs:\n  - job_name: a\n    consul_sd_configs: []\n', 'CONFIG_UNKNOWN_FIELD', 'service discovery consul_sd_configs is not supported by keel');
});

test('values of the wrong kind or breaking a rule fail with Prometheus’s messages', () => {
  const cases: [string, ConfigErrorCode, string, string?][] = [
    ['scrape_configs: {job_name: a}', 'CONFIG_WRONG_TYPE', 'expected a list, got a map', 'scrape_configs'],
    ['scrape_configs:\n  - job_name: a\n    sample_limit: lots\n', 'CONFIG_WRONG_TYPE', 'expected a non-negative integer, got "lots"', 'scrape_configs[0].sample_limit'],
    ['scrape_configs:\n  - job_name: a\n    honor_labels: maybe\n', 'CONFIG_WRONG_TYPE', 'expected true or false, got "maybe"'],
    ['scrape_configs:\n  - job_name: a\n    scrape_interval: 5s\n    scrape_timeout: 10s\n', 'CONFIG_INVALID_VALUE', 'scrape timeout greater than scrape interval for scrape config with job name "a"', 'scrape_configs[0].scrape_timeout'],
    ['global: {scrape_interval: 5s, scrape_timeout: 6s}', 'CONFIG_INVALID_VALUE', 'global scrape timeout greater than scrape interval'],
    ['global: {scrape_interval: 5 minutes}', 'CONFIG_INVALID_VALUE', 'not a valid duration string: "5 minutes"', 'global.scrape_interval'],
    ['scrape_configs: [{job_name: a}, {job_name: a}]', 'CONFIG_INVALID_VALUE', 'found multiple scrape configs with job name "a"', 'scrape_configs[1]'],
    ['scrape_configs: [{scrape_interval: 1s}]', 'CONFIG_INVALID_VALUE', 'job_name is empty'],
    ['scrape_configs: [~]', 'CONFIG_INVALID_VALUE', 'empty or null scrape config section'],
    ['scrape_configs:\n  - job_name: a\n    scheme: ftp\n', 'CONFIG_INVALID_VALUE', 'scheme must be http or https, got "ftp"'],
    ['scrape_configs:\n  - job_name: a\n    body_size_limit: 1000\n', 'CONFIG_INVALID_VALUE', 'invalid byte size "1000"'],
    ['scrape_configs:\n  - job_name: a\n    static_configs: [{targets: [http://a:1/metrics]}]\n', 'CONFIG_INVALID_VALUE', '"http://a:1/metrics" is not a valid hostname'],
    ['scrape_configs:\n  - job_name: a\n    static_configs: [{targets: [a], labels: {0bad: x}}]\n', 'CONFIG_INVALID_VALUE', '"0bad" is not a valid label name'],
    ['scrape_configs:\n  - job_name: a\n    relabel_configs: [~]\n', 'CONFIG_INVALID_VALUE', 'empty or null target relabeling rule in scrape config'],
    ['scrape_configs:\n  - job_name: a\n    relabel_configs: [{action: hashmod, target_label: x}]\n', 'CONFIG_INVALID_VALUE', 'relabel configuration for hashmod requires non-zero modulus'],
    ['scrape_configs:\n  - job_name: a\n    relabel_configs: [{action: explode}]\n', 'CONFIG_INVALID_VALUE', 'unknown relabel action "explode"'],
    ['scrape_configs:\n  - job_name: a\n    relabel_configs: [{regex: "a(b"}]\n', 'CONFIG_INVALID_VALUE', 'missing closing )', 'scrape_configs[0].relabel_configs[0].regex'],
    ['scrape_configs:\n  - job_name: a\n    metric_relabel_configs: [{source_labels: [a-b], action: keep}]\n', 'CONFIG_INVALID_VALUE', '"a-b" is not a valid label name'],
    ['scrape_configs:\n  - job_name: a\n    file_sd_configs: [{files: [targets.txt]}]\n', 'CONFIG_INVALID_VALUE', 'path name "targets.txt" is not valid for file discovery'],
    ['scrape_configs:\n  - job_name: a\n    file_sd_configs: [{files: []}]\n', 'CONFIG_INVALID_VALUE', 'file service discovery config must contain at least one path name'],
    ['scrape_configs:\n  - job_name: a\n    keel_sd_configs: [{endpoints: []}]\n', 'CONFIG_INVALID_VALUE', 'keel service discovery config must list at least one endpoint'],
    ['scrape_configs:\n  - job_name: a\n    keel_sd_configs: [{endpoints: [localhost]}]\n', 'CONFIG_INVALID_VALUE', 'endpoint "localhost" is not host:port or http://host:port'],
    ['global: {external_labels: {"bad-name": x}}', 'CONFIG_INVALID_VALUE', '"bad-name" is not a valid label name'],
    ['rule_files: ["rules/*/x.yml"]', 'CONFIG_INVALID_VALUE', 'invalid rule file path "rules/*/x.yml"'],
    ['remote_write: [{name: a}]', 'CONFIG_INVALID_VALUE', 'url for remote_write is empty'],
    ['remote_write: [{url: "ftp://x"}]', 'CONFIG_INVALID_VALUE', 'url "ftp://x" is not an http or https URL'],
    ['remote_write: [{url: "http://x", headers: {User-Agent: me}}]', 'CONFIG_INVALID_VALUE', 'User-Agent is a reserved header. It must not be changed'],
    ['remote_write: [{url: "http://x", headers: {Authorization: me}}]', 'CONFIG_INVALID_VALUE', 'authorization header must be changed via'],
    ['remote_write: [{url: "http://x", name: a}, {url: "http://y", name: a}]', 'CONFIG_INVALID_VALUE', 'found multiple remote write configs with job name "a"'],
    ['alerting: {alertmanagers: [{api_version: v3}]}', 'CONFIG_INVALID_VALUE', 'expected Alertmanager api version to be one of [v1 v2] but got v3'],
  ];
  for (const [yaml, code, text, path] of cases) assertConfigError(yaml, code, text, path === undefined ? {} : { path });
});

test('YAML syntax errors point at the line and column', () => {
  assertConfigError('global:\n  scrape_interval: [15s\n', 'CONFIG_YAML_SYNTAX', 'YAML:');
  assertConfigError('global: {}\nglobal: {}\n', 'CONFIG_YAML_SYNTAX', 'Map keys must be unique', { line: 2 });
  assertConfigError('a: 1\n---\nb: 2\n', 'CONFIG_YAML_SYNTAX', 'multiple documents');
});

test('YAML 1.1 booleans, anchors and merge keys work as in Prometheus', () => {
  const config = parseMonitorConfig(`
scrape_configs:
  - &base
    job_name: a
    scrape_interval: 7s
    honor_labels: yes
  - <<: *base
    job_name: b
    honor_timestamps: off
`);
  const [first, second] = config.scrapeConfigs;
  assert.equal(first?.honorLabels, true);
  assert.equal(second?.jobName, 'b');
  assert.equal(second?.scrapeIntervalMs, 7000);
  assert.equal(second?.honorLabels, true);
  assert.equal(second?.honorTimestamps, false);
});

test('a configuration above the size bound is refused before parsing', () => {
  assertConfigError(`#${' '.repeat(configCharactersMax)}`, 'CONFIG_TOO_LARGE', `longer than ${configCharactersMax} characters`);
});

test('loadMonitorConfig resolves relative paths against the file and reports unreadable files', async () => {
  const directory = mkdtempSync(join(tmpdir(), 'keel-config-'));
  try {
    const path = join(directory, 'prometheus.yml');
    writeFileSync(path, 'rule_files: [rules.yml]\nscrape_configs:\n  - job_name: f\n    file_sd_configs: [{files: [sd/*.yaml]}]\n');
    const config = await loadMonitorConfig(path);
    assert.deepEqual(config.ruleFiles, [join(directory, 'rules.yml')]);
    assert.deepEqual(config.scrapeConfigs[0]?.fileSdConfigs[0]?.files, [join(directory, 'sd/*.yaml')]);
    assert.ok(config.text.includes('rule_files'));
    await assert.rejects(loadMonitorConfig(join(directory, 'missing.yml')), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.code, 'CONFIG_READ_FAILED');
      assert.match(error.message, /missing\.yml: cannot read the configuration file: ENOENT/);
      return true;
    });
    writeFileSync(path, 'scrape_configs:\n  - job_name: x\n    unknown: 1\n');
    await assert.rejects(loadMonitorConfig(path), { message: `${path}:3:5: scrape_configs[0].unknown: field unknown not found in type config.ScrapeConfig` });
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});

/**
 * Accepts and rejects the same files as Prometheus 2.42's own `promtool check config` (installed by
 * .ci/run). keel-only fields are left out; fields keel refuses on purpose are listed in the test above.
 */
test('the configurations promtool accepts and rejects agree with keel', () => {
  const cases: readonly string[] = [
    '',
    'global: {scrape_interval: 15s, external_labels: {a: b}}',
    'global: {scrape_interval: 5s, scrape_timeout: 6s}',
    'global: {scrape_interval: 1h30m}',
    'global: {scrape_interval: 90}',
    'scrape_configs: [{job_name: a, static_configs: [{targets: ["a:1"], labels: {x: y}}]}]',
    'scrape_configs: [{job_name: a, scrape_interval: 5s, scrape_timeout: 10s}]',
    'scrape_configs: [{job_name: a}, {job_name: a}]',
    'scrape_configs: [{job_name: ""}]',
    'scrape_configs: [{job_name: a, body_size_limit: 10MB}]',
    'scrape_configs: [{job_name: a, body_size_limit: 1000}]',
    'scrape_configs: [{job_name: a, sample_limit: -1}]',
    'scrape_configs: [{job_name: a, honor_labels: yes}]',
    'scrape_configs: [{job_name: a, foo: bar}]',
    'scrape_configs: [{job_name: a, static_configs: [{targets: ["http://a:1/x"]}]}]',
    'scrape_configs: [{job_name: a, static_configs: [{targets: ["http://a:1/x"]}], relabel_configs: [{target_label: __address__, replacement: "a:1"}]}]',
    'scrape_configs: [{job_name: a, relabel_configs: [{action: hashmod, target_label: s, modulus: 3, source_labels: [a]}]}]',
    'scrape_configs: [{job_name: a, relabel_configs: [{action: hashmod, target_label: s}]}]',
    'scrape_configs: [{job_name: a, relabel_configs: [{action: HashMod, target_label: s, modulus: 2}]}]',
    'scrape_configs: [{job_name: a, relabel_configs: [{action: replace}]}]',
    'scrape_configs: [{job_name: a, relabel_configs: [{target_label: "${1}_x", regex: "(a)"}]}]',
    'scrape_configs: [{job_name: a, relabel_configs: [{target_label: "a-b"}]}]',
    'scrape_configs: [{job_name: a, relabel_configs: [{action: labelmap, regex: "__meta_(.+)"}]}]',
    'scrape_configs: [{job_name: a, relabel_configs: [{action: labelmap, regex: "(.+)", replacement: "a-$1"}]}]',
    'scrape_configs: [{job_name: a, relabel_configs: [{action: labeldrop, regex: tmp}]}]',
    'scrape_configs: [{job_name: a, relabel_configs: [{action: labeldrop, regex: tmp, source_labels: [a]}]}]',
    'scrape_configs: [{job_name: a, relabel_configs: [{action: keepequal, source_labels: [a], target_label: b}]}]',
    'scrape_configs: [{job_name: a, relabel_configs: [{action: keepequal, source_labels: [a], target_label: b, regex: "(.*)"}]}]',
    'scrape_configs: [{job_name: a, relabel_configs: [{action: dropequal, source_labels: [a]}]}]',
    'scrape_configs: [{job_name: a, relabel_configs: [{action: lowercase, source_labels: [a], target_label: b}]}]',
    'scrape_configs: [{job_name: a, relabel_configs: [{action: uppercase, source_labels: [a], target_label: b, replacement: x}]}]',
    'scrape_configs: [{job_name: a, relabel_configs: [{regex: "a(b"}]}]',
    'scrape_configs: [{job_name: a, relabel_configs: [{regex: "(?P<name>x)(?:y)\\\\d+", target_label: t}]}]',
    'scrape_configs: [{job_name: a, relabel_configs: [{regex: "(a)\\\\1", target_label: t}]}]',
    'scrape_configs: [{job_name: a, relabel_configs: [{regex: "(?=a)", target_label: t}]}]',
    'scrape_configs: [{job_name: a, relabel_configs: [{source_labels: [bad-name]}]}]',
    'scrape_configs: [{job_name: a, file_sd_configs: [{files: [a.json, "b/*.yml"]}]}]',
    'scrape_configs: [{job_name: a, file_sd_configs: [{files: [a.txt]}]}]',
    'scrape_configs: [{job_name: a, file_sd_configs: [{files: []}]}]',
    'scrape_configs: [{job_name: a, metric_relabel_configs: [{source_labels: [__name__], regex: "go_.*", action: drop}]}]',
    'rule_files: ["a/*.yml"]',
    'rule_files: ["*/a.yml"]',
    'remote_write: [{url: "http://x:1/w", queue_config: {max_shards: 2}}]',
    'remote_write: [{name: a}]',
    'remote_write: [{url: "http://x", headers: {User-Agent: me}}]',
    'alerting: {alertmanagers: [{static_configs: [{targets: ["a:9093"]}], api_version: v2}]}',
    'alerting: {alertmanagers: [{api_version: v3}]}',
    'alerting: {alertmanagers: [{timeout: 10}]}',
  ];
  const directory = mkdtempSync(join(tmpdir(), 'keel-promtool-'));
  try {
    const files = cases.map((text, index) => {
      const path = join(directory, `case-${index}.yml`);
      writeFileSync(path, text);
      return path;
    });
    const result = spawnSync('promtool', ['check', 'config', '--syntax-only', ...files], { encoding: 'utf8' });
    assert.equal(result.error, undefined, 'promtool must be installed (.ci/run installs the prometheus package)');
    const output = `${result.stdout}${result.stderr}`;
    files.forEach((path, index) => {
      const promtoolAccepts = output.includes(`SUCCESS: ${path} is valid`);
      const promtoolRejects = output.includes(`FAILED: parsing YAML file ${path}`);
      assert.ok(promtoolAccepts !== promtoolRejects, `promtool verdict for ${cases[index]!} not found in:\n${output}`);
      let keelAccepts = true;
      let keelError = '';
      try {
        parseMonitorConfig(cases[index]!, path);
      } catch (error) {
        keelAccepts = false;
        keelError = (error as Error).message;
      }
      assert.equal(keelAccepts, promtoolAccepts, `${JSON.stringify(cases[index])}: keel ${keelAccepts ? 'accepts' : `rejects (${keelError})`}, promtool ${promtoolAccepts ? 'accepts' : 'rejects'}`);
    });
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});
