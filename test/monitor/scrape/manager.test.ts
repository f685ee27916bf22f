import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseMonitorConfig } from '../../../src/monitor/config.ts';
import { ScrapeManager } from '../../../src/monitor/scrape/index.ts';
import type { KeelMember, ScrapeManagerOptions } from '../../../src/monitor/scrape/index.ts';
import type { TargetStatus } from '../../../src/monitor/targets.ts';
import { startCluster } from '../../client/_cluster.ts';
import { RecordingAppendable, startExporter, waitFor } from './_helpers.ts';
import type { Exporter } from './_helpers.ts';

const interval = '150ms';

async function withManager(run: (manager: ScrapeManager, db: RecordingAppendable) => Promise<void>, options: ScrapeManagerOptions = {}): Promise<void> {
  const db = new RecordingAppendable();
  const manager = new ScrapeManager(db, options);
  try {
    await run(manager, db);
  } finally {
    await manager.stop();
  }
}

async function withExporters(bodies: string[], run: (exporters: Exporter[]) => Promise<void>): Promise<void> {
  const exporters = await Promise.all(bodies.map((body) => startExporter(body)));
  try {
    await run(exporters);
  } finally {
    await Promise.all(exporters.map((exporter) => exporter.close()));
  }
}

function staticJob(name: string, addresses: readonly string[], extra = ''): string {
  return `  - job_name: ${name}\n    scrape_interval: ${interval}\n    static_configs: [{targets: [${addresses.map((address) => `'${address}'`).join(', ')}]}]\n${extra}`;
}

function config(...jobs: string[]): ReturnType<typeof parseMonitorConfig> {
  return parseMonitorConfig(`scrape_configs:\n${jobs.join('')}`);
}

function byInstance(manager: ScrapeManager): Map<string, TargetStatus> {
  return new Map(manager.activeTargets().map((target) => [target.labels.get('instance'), target]));
}

const allUp = (manager: ScrapeManager, count: number) => (): boolean => {
  const targets = manager.activeTargets();
  return targets.length === count && targets.every((target) => target.health === 'up');
};

test('applyConfig scrapes every static target and reports targets, dropped targets and metadata', async () => {
  await withExporters(['# HELP a_total Things.\n# TYPE a_total counter\na_total 1\n', 'b 2\n'], async ([first, second]) => {
    await withManager(async (manager, db) => {
      const drop = "    relabel_configs: [{action: drop, source_labels: [__address__], regex: 'dropped:.*'}]\n";
      await manager.applyConfig(config(staticJob('app', [first!.address, second!.address, 'dropped:1'], drop)));
      await waitFor('both targets up', allUp(manager, 2));
      const targets = byInstance(manager);
      const firstStatus = targets.get(first!.address)!;
      assert.equal(firstStatus.scrapePool, 'app');
      assert.equal(firstStatus.scrapeUrl, first!.url);
      assert.equal(firstStatus.scrapeIntervalMs, 150);
      assert.equal(firstStatus.scrapeTimeoutMs, 150);
      assert.equal(firstStatus.discoveredLabels.__address__, first!.address);
      assert.deepEqual(firstStatus.labels.toRecord(), { instance: first!.address, job: 'app' });
      assert.deepEqual(manager.droppedTargets().map((target) => target.discoveredLabels.__address__), ['dropped:1']);
      assert.ok(db.of(`a_total{instance="${first!.address}", job="app"}`).length > 0);
      assert.ok(db.of(`b{instance="${second!.address}", job="app"}`).length > 0);
      const metadata = manager.metadata().find((entry) => entry.metric === 'a_total');
      assert.deepEqual(metadata && { ...metadata, target: metadata.target.toRecord() }, { target: { instance: first!.address, job: 'app' }, metric: 'a_total', type: 'counter', help: 'Things.', unit: '' });
    });
  });
});

test('a reload keeps unchanged targets’ loops, stops removed targets with staleness markers and starts new ones', async () => {
  await withExporters(['kept 1\n', 'removed 1\n', 'added 1\n'], async ([kept, removed, added]) => {
    await withManager(async (manager, db) => {
      await manager.applyConfig(config(staticJob('app', [kept!.address, removed!.address])));
      await waitFor('two targets up', allUp(manager, 2));
      await manager.applyConfig(config(staticJob('app', [kept!.address, added!.address])));
      assert.equal(byInstance(manager).get(kept!.address)?.health, 'up', 'the kept target’s loop carried on');
      await waitFor('the new target up', allUp(manager, 2));
      await waitFor('markers for the removed target', () => db.of(`removed{instance="${removed!.address}", job="app"}`).some((sample) => sample.stale));
      assert.ok(db.of(`up{instance="${removed!.address}", job="app"}`).at(-1)?.stale);
      const keptRequests = kept!.requests.length;
      await waitFor('two more scrapes of the kept target', () => kept!.requests.length >= keptRequests + 2);
      assert.equal(db.samples.some((sample) => sample.stale && sample.series.includes(kept!.address)), false);
      assert.deepEqual([...byInstance(manager).keys()].sort(), [kept!.address, added!.address].sort());
    });
  });
});

test('a changed job setting restarts its loops without staleness markers; an identical config changes nothing', async () => {
  await withExporters(['m{job="inner"} 1\n'], async ([exporter]) => {
    await withManager(async (manager, db) => {
      const base = config(staticJob('app', [exporter!.address]));
      await manager.applyConfig(base);
      await waitFor('up', allUp(manager, 1));
      await manager.applyConfig(config(staticJob('app', [exporter!.address])));
      assert.equal(manager.activeTargets()[0]?.health, 'up');
      await manager.applyConfig(config(staticJob('app', [exporter!.address], '    honor_labels: true\n')));
      assert.equal(manager.activeTargets()[0]?.health, 'up', 'the new loop inherits the target’s state');
      await waitFor('the honoured series', () => db.of(`m{instance="${exporter!.address}", job="inner"}`).length > 0);
      assert.equal(db.of(`up{instance="${exporter!.address}", job="app"}`).some((sample) => sample.stale), false);
      const renamed = db.of(`m{exported_job="inner", instance="${exporter!.address}", job="app"}`);
      assert.ok(renamed.at(-1)?.stale, 'the series that honor_labels renamed ends with a marker');
    });
  });
});

test('removing a job marks its series stale; stopping the manager writes no markers', async () => {
  await withExporters(['x 1\n', 'y 1\n'], async ([first, second]) => {
    await withManager(async (manager, db) => {
      await manager.applyConfig(config(staticJob('one', [first!.address]), staticJob('two', [second!.address])));
      await waitFor('two up', allUp(manager, 2));
      await manager.applyConfig(config(staticJob('two', [second!.address])));
      assert.deepEqual(manager.activeTargets().map((target) => target.scrapePool), ['two']);
      await waitFor('markers for job one', () => db.of(`x{instance="${first!.address}", job="one"}`).some((sample) => sample.stale));
      await manager.stop();
      assert.equal(db.samples.some((sample) => sample.stale && sample.series.includes('job="two"')), false);
      await assert.rejects(manager.applyConfig(config()), /stopped/);
    });
  });
});

test('stopping right after a job was removed cancels its pending staleness markers', async () => {
  await withExporters(['x 1\n'], async ([exporter]) => {
    await withManager(async (manager, db) => {
      await manager.applyConfig(config(staticJob('one', [exporter!.address])));
      await waitFor('up', allUp(manager, 1));
      await manager.applyConfig(config());
      await manager.stop();
      assert.equal(db.samples.some((sample) => sample.stale), false);
    });
  });
});

test('file_sd targets follow their files; a broken file keeps its last good targets', async () => {
  const directory = mkdtempSync(join(tmpdir(), 'keel-file-sd-'));
  try {
    await withExporters(['f 1\n', 'g 1\n'], async ([first, second]) => {
      await withManager(async (manager, db) => {
        const file = join(directory, 'targets.json');
        writeFileSync(file, JSON.stringify([{ targets: [first!.address], labels: { team: 'a' } }]));
        await manager.applyConfig(config(`  - job_name: files\n    scrape_interval: ${interval}\n    file_sd_configs: [{files: ['${join(directory, '*.json')}'], refresh_interval: 100ms}]\n`));
        await waitFor('the file target up', allUp(manager, 1));
        const status = manager.activeTargets()[0]!;
        assert.deepEqual(status.labels.toRecord(), { instance: first!.address, job: 'files', team: 'a' });
        assert.equal(status.discoveredLabels.__meta_filepath, file);
        writeFileSync(join(directory, 'more.json'), `[{"targets": ["${second!.address}"]}]`);
        await waitFor('both targets up', allUp(manager, 2));
        writeFileSync(file, '[{"targets": [');
        await waitFor('a discovery error', () => manager.discoveryErrors().length > 0);
        assert.match(manager.discoveryErrors()[0]!.error, /targets\.json:1:\d+: YAML:/);
        assert.equal(manager.activeTargets().length, 2, 'the broken file keeps its targets');
        rmSync(file);
        await waitFor('the deleted file’s target gone', () => manager.activeTargets().length === 1);
        await waitFor('its markers', () => db.of(`f{instance="${first!.address}", job="files", team="a"}`).some((sample) => sample.stale));
        assert.equal(manager.discoveryErrors().length, 0);
      });
    });
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});

test('keel_sd targets come from the injected member lister, with the members’ meta labels', async () => {
  await withExporters(['member_metric 1\n', 'member_metric 2\n'], async ([first, second]) => {
    let members: KeelMember[] = [
      { id: 0x8e9e05c52164694dn, name: 'm1', clientUrls: [`http://${first!.address}`], isLearner: false },
      { id: 0x91bc3c398fb3c146n, name: 'm2', clientUrls: [`http://${second!.address}`], isLearner: true },
    ];
    let failing = false;
    const calls: string[][] = [];
    const listKeelMembers = async (endpoints: readonly string[]): Promise<KeelMember[]> => {
      calls.push([...endpoints]);
      if (failing) throw new Error('no leader');
      return members;
    };
    await withManager(async (manager) => {
      await manager.applyConfig(parseMonitorConfig(`
scrape_configs:
  - job_name: keel
    scrape_interval: ${interval}
    keel_sd_configs: [{endpoints: ['127.0.0.1:2379'], refresh_interval: 100ms}]
    relabel_configs:
      - action: labelmap
        regex: __meta_keel_member_(name|is_learner)
`));
      await waitFor('both members up', allUp(manager, 2));
      assert.deepEqual(calls[0], ['127.0.0.1:2379']);
      const second_ = byInstance(manager).get(second!.address)!;
      assert.deepEqual(second_.labels.toRecord(), { instance: second!.address, is_learner: 'true', job: 'keel', name: 'm2' });
      assert.equal(second_.discoveredLabels.__meta_keel_member_id, '91bc3c398fb3c146');
      assert.equal(second_.discoveredLabels.__meta_keel_member_client_url, `http://${second!.address}`);
      failing = true;
      await waitFor('a discovery error', () => manager.discoveryErrors().length > 0);
      assert.equal(manager.discoveryErrors()[0]?.error, 'keel discovery: no leader');
      assert.equal(manager.activeTargets().length, 2, 'a failed listing keeps the last members');
      members = members.slice(0, 1);
      failing = false;
      await waitFor('the removed member gone', () => manager.activeTargets().length === 1);
    }, { listKeelMembers });
  });
});

test('keel_sd lists a real keel member through the client and scrapes its /metrics', async () => {
  const cluster = await startCluster(1);
  try {
    await cluster.ready();
    await withManager(async (manager) => {
      await manager.applyConfig(parseMonitorConfig(`
scrape_configs:
  - job_name: keel
    scrape_interval: 500ms
    keel_sd_configs: [{endpoints: ['${cluster.endpoints[0]!}']}]
`));
      await waitFor('the member discovered and scraped', () => manager.activeTargets()[0]?.health === 'up', 15_000);
      const target = manager.activeTargets()[0]!;
      assert.equal(target.labels.get('instance'), cluster.endpoints[0]);
      assert.equal(target.discoveredLabels.__meta_keel_member_name, 'm1');
      assert.equal(target.discoveredLabels.__meta_keel_member_is_learner, 'false');
      assert.ok(manager.metadata().length > 0, 'the member exposes metric metadata');
    });
  } finally {
    await cluster.stop();
  }
});

test('target_limit fails every scrape of a job over the limit without contacting the targets', async () => {
  await withExporters(['a 1\n', 'b 1\n', 'c 1\n'], async (exporters) => {
    await withManager(async (manager, db) => {
      const addresses = exporters.map((exporter) => exporter.address);
      await manager.applyConfig(config(staticJob('limited', addresses, '    target_limit: 2\n')));
      await waitFor('three failed scrapes', () => manager.activeTargets().every((target) => target.health === 'down'));
      assert.deepEqual(manager.activeTargets().map((target) => target.lastError), Array(3).fill('target_limit exceeded (number of targets: 3, limit: 2)'));
      assert.equal(exporters.reduce((total, exporter) => total + exporter.requests.length, 0), 0);
      assert.equal(db.of(`up{instance="${addresses[0]!}", job="limited"}`)[0]?.value, 0);
      await manager.applyConfig(config(staticJob('limited', addresses.slice(0, 2), '    target_limit: 2\n')));
      await waitFor('two targets up', allUp(manager, 2));
    });
  });
});

test('with one scrape slot every target is still scraped, one at a time', async () => {
  const bodies = Array.from({ length: 5 }, (_, index) => `slot_metric ${index}\n`);
  await withExporters(bodies, async (exporters) => {
    await withManager(async (manager) => {
      await manager.applyConfig(config(staticJob('serial', exporters.map((exporter) => exporter.address))));
      await waitFor('all five up', allUp(manager, 5));
    }, { scrapesConcurrentMax: 1 });
  });
});

test('refused appends are summed over all targets', async () => {
  let value = 0;
  await withExporters(['', ''], async (exporters) => {
    for (const exporter of exporters) {
      exporter.respond((_request, response) => {
        value += 1;
        response.end(`pinned ${value} 1000\n`);
      });
    }
    await withManager(async (manager) => {
      await manager.applyConfig(config(staticJob('pinned', exporters.map((exporter) => exporter.address))));
      await waitFor('duplicates on both targets', () => (manager.appendOutcomes().get('duplicate_sample') ?? 0) >= 4);
    });
  });
});

test('the manager refuses a non-positive concurrency', () => {
  assert.throws(() => new ScrapeManager(new RecordingAppendable(), { scrapesConcurrentMax: 0 }), /scrapesConcurrentMax must be a positive integer/);
});
