// A real Alertmanager (Debian's prometheus-alertmanager, installed by .ci/run) on loopback, for the notifier
// and end-to-end alerting tests.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from './_net.ts';

export const alertmanagerBinary = 'prometheus-alertmanager';
export const alertmanagerMissing = spawnSync('sh', ['-c', `command -v ${alertmanagerBinary}`]).status !== 0;

export interface GettableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  status: { state: string };
}

export async function alertsIn(base: string): Promise<GettableAlert[]> {
  const response = await fetch(`${base}/api/v2/alerts`);
  assert.equal(response.status, 200);
  return (await response.json()) as GettableAlert[];
}

/** Starts Alertmanager with a null receiver and no clustering; resolves once it is ready. */
export async function startAlertmanager(directory: string, readyTimeoutMs = 20_000): Promise<{ child: ChildProcess; base: string; port: number; stderr: () => string }> {
  const configPath = join(directory, 'alertmanager.yml');
  await writeFile(configPath, 'route:\n  receiver: "null"\nreceivers:\n  - name: "null"\n');
  const port = await freePort();
  const child = spawn(alertmanagerBinary, [
    `--config.file=${configPath}`,
    `--storage.path=${join(directory, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--cluster.listen-address=',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString('utf8'); });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`alertmanager exited: ${stderr}`);
    if (await fetch(`${base}/-/ready`).then((response) => response.ok, () => false)) break;
    if (Date.now() > deadline) throw new Error(`Alertmanager not ready: ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { child, base, port, stderr: () => stderr };
}
