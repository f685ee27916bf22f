// `npm run bench`: runs every benchmark module in bench/ (sorted by name) that exports
// `async function run(): Promise<void>`; each prints its results as JSON lines on stdout.
// A module that does not export `run` is skipped rather than imported, so that a script which
// benchmarks on import does not run twice or out of turn.
import { readFile, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const benchDirectory = dirname(fileURLToPath(import.meta.url));
const exportsRun = /export\s+(async\s+)?function\s+run\s*\(|export\s*\{[^}]*\brun\b[^}]*\}|export\s+const\s+run\s*=/;

interface BenchModule {
  run?: () => Promise<void> | void;
}

const names = (await readdir(benchDirectory)).filter((name) => name.endsWith('.ts') && name !== 'run.ts' && !name.startsWith('_')).sort();
let failures = 0;
for (const name of names) {
  const path = join(benchDirectory, name);
  if (!exportsRun.test(await readFile(path, 'utf8'))) {
    process.stderr.write(`bench: skipping ${name}: it does not export run()\n`);
    continue;
  }
  const module = (await import(pathToFileURL(path).href)) as BenchModule;
  if (typeof module.run !== 'function') continue;
  try {
    await module.run();
  } catch (error) {
    failures++;
    process.stderr.write(`bench: ${name} failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  }
}
process.exitCode = failures > 0 ? 1 : 0;
