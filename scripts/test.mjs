// Runs every *.test.ts under test/ with Node's test runner (Node 20 has no glob for --test arguments).
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function find(dir, out) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) find(path, out);
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

const only = process.argv.slice(2);
// Arguments may be files or folders (every test file under a folder runs).
const files = only.length > 0 ? only.flatMap((path) => (statSync(path).isDirectory() ? find(path, []).sort() : [path])) : find('test', []).sort();
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...files], { stdio: 'inherit' });
process.exitCode = result.status ?? 1;
