/**
 * etcdctl's `txn` input: compare lines, a blank line, success operations, a blank line, failure
 * operations (ended by a blank line or the end of input).
 *
 *   value("key") = "v"          mod("key") > "5"          version("key") = "0"
 *   put key "value with spaces" [--lease=ID] [--prev-kv]
 *   get key [range_end] [--prefix] ...          del key [range_end] [--prefix] [--prev-kv]
 */
import type { TxnCompare, TxnOp, TxnSpec, CompareOperator } from '../client/index.ts';
import { UsageError } from './output.ts';

/** Lines a transaction may hold: etcd's default limit of 128 operations, plus compares and separators. */
export const txnLinesMax = 512;

/** Splits a line into words: whitespace separates, double quotes (with escapes) and single quotes group. */
export function splitWords(line: string): string[] {
  const words: string[] = [];
  const pattern = /\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+))/gy;
  let match: RegExpExecArray | null;
  while ((match = pattern.exec(line)) !== null) {
    if (match[1] !== undefined) words.push(JSON.parse(`"${match[1]}"`) as string);
    else if (match[2] !== undefined) words.push(match[2]);
    else if (match[3] !== undefined) words.push(match[3]);
    if (pattern.lastIndex >= line.length) break;
  }
  return words;
}

const comparePattern = /^\s*(\w+)\(\s*"((?:[^"\\]|\\.)*)"\s*\)\s*(=|!=|<|>)\s*(?:"((?:[^"\\]|\\.)*)"|(\S+))\s*$/;

export function parseCompare(line: string): TxnCompare {
  const match = comparePattern.exec(line);
  if (match === null) throw new UsageError(`malformed comparison: ${line}`);
  const key = JSON.parse(`"${match[2]}"`) as string;
  const operator = match[3] as CompareOperator;
  const operand = match[4] !== undefined ? JSON.parse(`"${match[4]}"`) as string : match[5]!;
  const integer = (): number => {
    if (!/^-?\d+$/.test(operand)) throw new UsageError(`invalid txn compare request: ${line}`);
    return Number(operand);
  };
  switch (match[1]) {
    case 'ver': case 'version': return { key, target: 'version', operator, operand: integer() };
    case 'c': case 'create': return { key, target: 'create', operator, operand: integer() };
    case 'm': case 'mod': return { key, target: 'mod', operator, operand: integer() };
    case 'val': case 'value': return { key, target: 'value', operator, operand };
    case 'lease': return { key, target: 'lease', operator, operand: BigInt(integer()) };
    default: throw new UsageError(`malformed comparison: ${line}; unknown target ${match[1]}`);
  }
}

function flagsOf(words: readonly string[]): { positional: string[]; flags: Set<string>; lease: bigint | undefined } {
  const positional: string[] = [];
  const flags = new Set<string>();
  let lease: bigint | undefined;
  for (const word of words) {
    if (word.startsWith('--lease=')) lease = BigInt.asIntN(64, BigInt(`0x${word.slice('--lease='.length)}`));
    else if (word.startsWith('--')) flags.add(word.slice(2));
    else positional.push(word);
  }
  return { positional, flags, lease };
}

export function parseOp(line: string): TxnOp {
  const [verb, ...rest] = splitWords(line);
  const { positional, flags, lease } = flagsOf(rest);
  const [key, second] = positional;
  if (key === undefined) throw new UsageError(`invalid txn request: ${line}`);
  switch (verb) {
    case 'put':
      if (second === undefined) throw new UsageError(`invalid txn request: ${line}`);
      return { type: 'put', key, value: second, options: { lease, prevKv: flags.has('prev-kv') } };
    case 'get':
      return { type: 'get', key, options: { rangeEnd: second, prefix: flags.has('prefix'), fromKey: flags.has('from-key'), keysOnly: flags.has('keys-only'), countOnly: flags.has('count-only') } };
    case 'del': case 'delete':
      return { type: 'delete', key, options: { rangeEnd: second, prefix: flags.has('prefix'), fromKey: flags.has('from-key'), prevKv: flags.has('prev-kv') } };
    default: throw new UsageError(`invalid txn request: ${line}`);
  }
}

/** Parses the whole input. */
export function parseTxn(input: string): TxnSpec {
  const lines = input.split('\n').map((line) => line.replace(/\r$/, ''));
  if (lines.length > txnLinesMax) throw new UsageError(`a transaction has at most ${txnLinesMax} lines`);
  const sections: string[][] = [[], [], []];
  let section = 0;
  for (const line of lines) {
    if (line.trim() === '') {
      section++;
      if (section > 2) break;
      continue;
    }
    sections[section]!.push(line);
  }
  return { compare: sections[0]!.map(parseCompare), success: sections[1]!.map(parseOp), failure: sections[2]!.map(parseOp) };
}
