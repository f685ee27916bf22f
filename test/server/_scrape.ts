// Shared by the metrics tests: fetch /metrics and /keel/status from a member, read samples out of the text
// format, and run `promtool check metrics` on a body.
import { spawn, spawnSync } from 'node:child_process';
import type { KeelStatus } from '../../src/server/admin-http.ts';

export const promtoolMissing = spawnSync('sh', ['-c', 'command -v promtool']).status !== 0;

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** The samples of a text-format body (comments skipped). Label values here never hold `"` or `,`. */
export function parseSamples(body: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of body.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').split(',').filter((part) => part !== '')) {
      const [key, quoted] = pair.split('=') as [string, string];
      labels[key] = quoted.slice(1, -1);
    }
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The samples named `name` whose labels include `labels`. */
export function matching(samples: readonly Sample[], name: string, labels: Readonly<Record<string, string>> = {}): Sample[] {
  return samples.filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value));
}

/** The one sample named `name` with `labels` (0 when absent: a counter not yet incremented). */
export function valueOf(samples: readonly Sample[], name: string, labels: Readonly<Record<string, string>> = {}): number {
  const found = matching(samples, name, labels);
  if (found.length > 1) throw new Error(`${name} ${JSON.stringify(labels)} matches ${found.length} samples`);
  return found[0]?.value ?? 0;
}

export async function scrape(port: number): Promise<{ body: string; samples: Sample[]; contentType: string }> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`);
  if (response.status !== 200) throw new Error(`/metrics answered ${response.status}`);
  const body = await response.text();
  return { body, samples: parseSamples(body), contentType: response.headers.get('content-type') ?? '' };
}

export async function fetchStatus(port: number): Promise<KeelStatus> {
  const response = await fetch(`http://127.0.0.1:${port}/keel/status`);
  if (response.status !== 200) throw new Error(`/keel/status answered ${response.status}`);
  return (await response.json()) as KeelStatus;
}

/** `promtool check metrics` on `body`: its exit code and everything it printed (its findings). */
export function promtoolCheck(body: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
    child.stdin.end(body);
  });
}

export async function eventually<T>(what: string, attempt: () => Promise<T | null>, limitMs = 15_000): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const result = await attempt().catch(() => null);
    if (result !== null) return result;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
