import { type BugName, bugNames, isBugName } from '../raft/index.ts';
import { type SeedResult, runSeed } from '../sim/index.ts';
import { type Output, UsageError, exitCodes } from './output.ts';

export const simUsage = `usage: keel sim --seeds S|A..B [--swarm] [--nodes 3|5] [--inject-bug NAME] [--trace]
       keel sim --list-bugs

  --seeds S|A..B     the seeds to run (one, or an inclusive range)
  --swarm            each seed draws its own fault mix and core options (swarm testing)
  --nodes 3|5        cluster size (default 3; with --swarm each seed picks 3 or 5)
  --inject-bug NAME  switch on a deliberate core bug (see --list-bugs)
  --trace            print each seed's timeline
  --list-bugs        print the injectable bug names, one per line

Prints one line per failing seed with the command that replays it; the last line is
"N seeds, V violations, E events, S simulated s, W wall s". Exit code 1 if any seed failed.`;

/** Bound on seeds in one invocation (ten times the long run). */
export const seedsPerRunMax = 1_000_000;

export interface SimArguments {
  readonly listBugs: boolean;
  readonly firstSeed: number;
  readonly lastSeed: number;
  readonly swarm: boolean;
  readonly nodesCount: number | null;
  readonly bug: BugName | null;
  readonly trace: boolean;
}

/** Parses `keel sim`'s arguments; throws UsageError naming what is wrong. */
export function parseSimArguments(argv: readonly string[]): SimArguments {
  let seeds: [number, number] | null = null;
  let swarm = false;
  let nodesCount: number | null = null;
  let bug: BugName | null = null;
  let trace = false;
  let listBugs = false;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = (): string => {
      const next = argv[++i];
      if (next === undefined || next.startsWith('--')) throw new UsageError(`${flag} needs a value`);
      return next;
    };
    if (flag === '--seeds') seeds = parseSeeds(value());
    else if (flag === '--swarm') swarm = true;
    else if (flag === '--nodes') nodesCount = parseNodes(value());
    else if (flag === '--inject-bug') bug = parseBug(value());
    else if (flag === '--trace') trace = true;
    else if (flag === '--list-bugs') listBugs = true;
    else throw new UsageError(`unknown option ${JSON.stringify(flag)}`);
  }
  if (listBugs) return { listBugs, firstSeed: 0, lastSeed: -1, swarm, nodesCount, bug, trace };
  if (seeds === null) throw new UsageError('--seeds is required');
  return { listBugs, firstSeed: seeds[0], lastSeed: seeds[1], swarm, nodesCount, bug, trace };
}

function parseSeeds(text: string): [number, number] {
  const match = /^(\d+)(?:\.\.(\d+))?$/.exec(text);
  if (match === null) throw new UsageError(`--seeds takes S or A..B, got ${JSON.stringify(text)}`);
  const first = Number(match[1]);
  const last = match[2] === undefined ? first : Number(match[2]);
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(last)) throw new UsageError('seeds must be safe integers');
  if (last < first) throw new UsageError(`--seeds ${text}: the range is empty`);
  if (last - first + 1 > seedsPerRunMax) throw new UsageError(`--seeds ${text}: at most ${seedsPerRunMax} seeds at once`);
  return [first, last];
}

function parseNodes(text: string): number {
  if (text !== '3' && text !== '5') throw new UsageError(`--nodes takes 3 or 5, got ${JSON.stringify(text)}`);
  return Number(text);
}

function parseBug(text: string): BugName {
  if (!isBugName(text)) throw new UsageError(`unknown bug ${JSON.stringify(text)}; see keel sim --list-bugs`);
  return text;
}

/** The command that replays one seed exactly, with its timeline. */
export function replayCommand(result: SeedResult): string {
  const options = result.options;
  const flags = [`--seeds ${result.seed}`];
  if (options.swarm) flags.push('--swarm');
  flags.push(`--nodes ${options.nodesCount}`);
  if (options.bug !== null) flags.push(`--inject-bug ${options.bug}`);
  flags.push('--trace');
  return `keel sim ${flags.join(' ')}`;
}

export function failureLine(result: SeedResult): string {
  const violation = result.violation!;
  const at = (violation.timeMs / 1000).toFixed(3);
  return `seed ${result.seed}: ${violation.checker}: ${violation.message} (at ${at}s) -- replay: ${replayCommand(result)}`;
}

/** The last line; the format is fixed (tools and tests parse it). */
export function summaryLine(totals: { seeds: number; violations: number; events: number; simulatedMs: number; wallMs: number }): string {
  const simulated = (totals.simulatedMs / 1000).toFixed(1);
  const wall = (totals.wallMs / 1000).toFixed(2);
  return `${totals.seeds} seeds, ${totals.violations} violations, ${totals.events} events, ${simulated} simulated s, ${wall} wall s`;
}

/** `keel sim`: runs the seeds, prints failures and the summary; exit code 1 if any seed failed. */
export async function simCommand(argv: readonly string[], output: Output): Promise<number> {
  const parsed = parseSimArguments(argv);
  if (parsed.listBugs) {
    for (const name of bugNames) output.out(name);
    return exitCodes.ok;
  }
  const startedMs = performance.now();
  const totals = { seeds: 0, violations: 0, events: 0, simulatedMs: 0, wallMs: 0 };
  for (let seed = parsed.firstSeed; seed <= parsed.lastSeed; seed++) {
    const result = runSeed({ seed, swarm: parsed.swarm, nodesCount: parsed.nodesCount, bug: parsed.bug, trace: parsed.trace });
    totals.seeds++;
    totals.events += result.eventsCount;
    totals.simulatedMs += result.simulatedMs;
    if (parsed.trace) for (const line of result.traceLines) output.out(line);
    if (result.violation !== null) {
      totals.violations++;
      output.out(failureLine(result));
    }
  }
  totals.wallMs = performance.now() - startedMs;
  output.out(summaryLine(totals));
  return totals.violations > 0 ? exitCodes.violation : exitCodes.ok;
}
