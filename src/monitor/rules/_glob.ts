/**
 * `rule_files` patterns: Go's filepath.Glob with metacharacters (`*`, `?`, `[...]`) in the last path
 * element only (the configuration parser enforces that). Unlike Prometheus, a plain path that does not
 * exist is an error rather than silently matching nothing, so a typo in a rule file name is noticed.
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Most files all patterns of one configuration may match. */
export const ruleFilesMatchedMax = 10_000;

const globCharacters = /[*?[]/;

/** Files matching the patterns, each once, sorted within a pattern as filepath.Glob returns them. */
export async function expandRuleFilePatterns(patterns: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  const seen = new Set<string>();
  const add = (file: string): void => {
    if (seen.has(file)) return;
    if (seen.size >= ruleFilesMatchedMax) throw new Error(`rule_files match more than ${ruleFilesMatchedMax} files`);
    seen.add(file);
    files.push(file);
  };
  for (const pattern of patterns) {
    if (!globCharacters.test(basename(pattern))) {
      try {
        await stat(pattern);
      } catch (error) {
        throw new Error(`rule file ${pattern}: ${(error as Error).message}`, { cause: error });
      }
      add(pattern);
      continue;
    }
    const directory = dirname(pattern);
    const matcher = globToRegex(basename(pattern));
    let names: string[];
    try {
      names = await readdir(directory);
    } catch {
      continue; // filepath.Glob ignores unreadable directories.
    }
    for (const name of names.sort()) if (matcher.test(name)) add(join(directory, name));
  }
  return files;
}

/** Go's filepath.Match syntax for one path element. */
export function globToRegex(pattern: string): RegExp {
  let source = '';
  for (let index = 0; index < pattern.length; index += 1) {
    const character = pattern[index]!;
    if (character === '*') source += '[^/]*';
    else if (character === '?') source += '[^/]';
    else if (character === '[') {
      const close = pattern.indexOf(']', index + 2);
      if (close < 0) throw new Error(`syntax error in pattern ${JSON.stringify(pattern)}`);
      // Go's class syntax ([a-z], [^a]) is the regular expression's.
      source += `[${pattern.slice(index + 1, close)}]`;
      index = close;
    } else if (character === '\\' && index + 1 < pattern.length) {
      source += escapeRegex(pattern[index + 1]!);
      index += 1;
    } else {
      source += escapeRegex(character);
    }
  }
  return new RegExp(`^${source}$`, 'u');
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
