/**
 * The functions a rule template may call: Prometheus 2.42's template functions that need no query
 * (humanize, humanize1024, humanizeDuration, humanizePercentage, humanizeTimestamp, toTime, title,
 * toUpper, toLower, match, reReplaceAll, stripPort, stripDomain, graphLink, tableLink, args, safeHtml,
 * parseDuration, externalURL, pathPrefix) and Go's builtins (printf, print, println, len, index, not,
 * eq, ne, lt, le, gt, ge, urlquery; `and` and `or` short-circuit, so the executor handles them).
 * The query functions (query, first, label, value, strvalue, sortByLabel) are refused when a template
 * is parsed.
 */
import { parseDurationMs } from '../config/units.ts';
import { formatGoFloat, formatGoTimeString } from './_go-format.ts';
import { goSprintf } from './_template-printf.ts';
import type { TemplateValue } from './_template-values.ts';
import { goTypeName, isTrue, printValue, sprint, TemplateTime } from './_template-values.ts';

/** Longest regular expression a template may compile (match, reReplaceAll). */
export const templateRegexCharactersMax = 4096;

/** What a function may read besides its arguments. */
export interface FunctionContext {
  readonly externalUrl: string;
}

interface TemplateFunction {
  /** Fixed argument count, or [minimum, maximum] (maximum Infinity for variadic). */
  readonly arity: number | readonly [number, number];
  call(args: readonly TemplateValue[], context: FunctionContext): TemplateValue;
}

const siPrefixesLarge = ['k', 'M', 'G', 'T', 'P', 'E', 'Z', 'Y'];
const siPrefixesSmall = ['m', 'u', 'n', 'p', 'f', 'a', 'z', 'y'];
const binaryPrefixes = ['ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei', 'Zi', 'Yi'];
const goFloatPattern = /^[+-]?(?:(?:\d[\d_]*)?\.?\d*(?:[eE][+-]?\d+)?|inf|infinity|nan)$/i;

/** Prometheus's convertToFloat: float64, a string strconv.ParseFloat accepts, or an integer. */
function toFloat(value: TemplateValue): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string') {
    if (value === '' || !goFloatPattern.test(value) || /^[+-]?\.?$/.test(value)) throw new Error(`strconv.ParseFloat: parsing ${JSON.stringify(value)}: invalid syntax`);
    const lower = value.toLowerCase().replace(/_/g, '');
    if (lower.endsWith('nan')) return NaN;
    if (lower.endsWith('inf') || lower.endsWith('infinity')) return lower.startsWith('-') ? -Infinity : Infinity;
    return Number(lower);
  }
  throw new Error(`can't convert ${goTypeName(value)} to float`);
}

const g4 = (value: number): string => formatGoFloat(value, 'g', 4);

function humanize(value: number): string {
  if (value === 0 || !Number.isFinite(value)) return g4(value);
  let scaled = value;
  let prefix = '';
  if (Math.abs(scaled) >= 1) {
    for (const candidate of siPrefixesLarge) {
      if (Math.abs(scaled) < 1000) break;
      prefix = candidate;
      scaled /= 1000;
    }
    return g4(scaled) + prefix;
  }
  for (const candidate of siPrefixesSmall) {
    if (Math.abs(scaled) >= 1) break;
    prefix = candidate;
    scaled *= 1000;
  }
  return g4(scaled) + prefix;
}

function humanize1024(value: number): string {
  if (Math.abs(value) <= 1 || !Number.isFinite(value)) return g4(value);
  let scaled = value;
  let prefix = '';
  for (const candidate of binaryPrefixes) {
    if (Math.abs(scaled) < 1024) break;
    prefix = candidate;
    scaled /= 1024;
  }
  return g4(scaled) + prefix;
}

function humanizeDuration(value: number): string {
  if (!Number.isFinite(value)) return g4(value);
  if (value === 0) return `${g4(value)}s`;
  if (Math.abs(value) >= 1) {
    const sign = value < 0 ? '-' : '';
    const magnitude = Math.abs(value);
    const total = Math.trunc(magnitude);
    const seconds = total % 60;
    const minutes = Math.trunc(total / 60) % 60;
    const hours = Math.trunc(total / 3600) % 24;
    const days = Math.trunc(total / 86_400);
    if (days !== 0) return `${sign}${days}d ${hours}h ${minutes}m ${seconds}s`;
    if (hours !== 0) return `${sign}${hours}h ${minutes}m ${seconds}s`;
    if (minutes !== 0) return `${sign}${minutes}m ${seconds}s`;
    return `${sign}${g4(magnitude)}s`;
  }
  let scaled = value;
  let prefix = '';
  for (const candidate of siPrefixesSmall) {
    if (Math.abs(scaled) >= 1) break;
    prefix = candidate;
    scaled *= 1000;
  }
  return `${g4(scaled)}${prefix}s`;
}

/** Prometheus's floatToTime: seconds to a time, millisecond resolution, refusing what overflows int64 nanoseconds. */
function floatToTime(value: number): TemplateTime | undefined {
  if (!Number.isFinite(value)) return undefined;
  const nanoseconds = value * 1e9;
  if (nanoseconds > 2 ** 63 || nanoseconds < -(2 ** 63)) {
    throw new Error(`${formatGoFloat(value, 'g', -1)} cannot be represented as a nanoseconds timestamp since it overflows int64`);
  }
  return new TemplateTime(Math.floor(nanoseconds / 1e6));
}

function text(value: TemplateValue, functionName: string, position: number): string {
  if (typeof value !== 'string') throw new Error(`wrong type for value; expected string; got ${goTypeName(value)} (argument ${position} of ${functionName})`);
  return value;
}

/** Go's RE2 syntax mapped onto JavaScript's: leading `(?i)`/`(?s)`/`(?m)` flag groups become flags. */
function compileGoRegex(pattern: string): RegExp {
  if (pattern.length > templateRegexCharactersMax) throw new Error(`regular expression is longer than ${templateRegexCharactersMax} characters`);
  let body = pattern;
  let flags = 'u';
  const flagGroup = /^\(\?([ims]+)\)/.exec(body);
  if (flagGroup !== null) {
    flags += flagGroup[1]!;
    body = body.slice(flagGroup[0].length);
  }
  try {
    return new RegExp(body, flags);
  } catch (error) {
    throw new Error(`error parsing regexp: ${(error as Error).message}`, { cause: error });
  }
}

/** Go's Regexp.Expand template: `$1`, `${1}`, `$name`, `${name}`, `$$`; a name is the longest word. */
function expandReplacement(template: string, match: RegExpExecArray): string {
  return template.replace(/\$(\$|\{(\w+)\}|(\w+))/g, (_whole, dollar: string, braced: string | undefined, bare: string | undefined) => {
    if (dollar === '$') return '$';
    const name = braced ?? bare ?? '';
    if (/^\d+$/.test(name)) return match[Number(name)] ?? '';
    return match.groups?.[name] ?? '';
  });
}

function reReplaceAll(pattern: string, replacement: string, input: string): string {
  const regex = compileGoRegex(pattern);
  const global = new RegExp(regex.source, `${regex.flags}g`);
  return input.replace(global, (...parts: unknown[]) => {
    const groupsArgument = parts[parts.length - 1];
    const hasGroups = typeof groupsArgument === 'object' && groupsArgument !== null;
    const captures = parts.slice(0, hasGroups ? -3 : -2) as (string | undefined)[];
    const match = Object.assign([...captures], { index: 0, input, groups: hasGroups ? groupsArgument as Record<string, string> : undefined }) as unknown as RegExpExecArray;
    return expandReplacement(replacement, match);
  });
}

/** Go's net.SplitHostPort, enough for stripPort and stripDomain. */
function splitHostPort(hostPort: string): { host: string; port: string } | undefined {
  if (hostPort.startsWith('[')) {
    const match = /^\[([^\]]*)\]:([^:]*)$/.exec(hostPort);
    return match === null ? undefined : { host: match[1]!, port: match[2]! };
  }
  const colon = hostPort.lastIndexOf(':');
  if (colon < 0 || hostPort.indexOf(':') !== colon) return undefined;
  return { host: hostPort.slice(0, colon), port: hostPort.slice(colon + 1) };
}

function isIpAddress(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || (host.includes(':') && /^[0-9a-fA-F:.]+$/.test(host));
}

function stripDomain(hostPort: string): string {
  const split = splitHostPort(hostPort);
  const host = split?.host ?? hostPort;
  if (isIpAddress(host)) return hostPort;
  const first = host.split('.')[0]!;
  if (split === undefined || split.port === '') return first;
  return `${first.includes(':') ? `[${first}]` : first}:${split.port}`;
}

/** Go's url.QueryEscape. */
export function goQueryEscape(input: string): string {
  let result = '';
  for (const byte of Buffer.from(input, 'utf8')) {
    const character = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-_.~]/.test(character)) result += character;
    else if (character === ' ') result += '+';
    else result += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return result;
}

/** Go's strings.Title: the first letter of every word upper-cased. */
function title(input: string): string {
  let previous = ' ';
  let result = '';
  for (const character of input) {
    const separator = !/[\p{L}\p{N}_]/u.test(previous);
    result += separator ? character.toUpperCase() : character;
    previous = character;
  }
  return result;
}

function compare(left: TemplateValue, right: TemplateValue): number {
  const kind = (value: TemplateValue): string => (typeof value === 'bigint' ? 'int' : typeof value === 'number' ? 'float' : typeof value);
  if (kind(left) !== kind(right)) throw new Error('incompatible types for comparison');
  if (typeof left === 'string' || typeof left === 'number' || typeof left === 'bigint') {
    const rightValue = right as typeof left;
    return left < rightValue ? -1 : left > rightValue ? 1 : 0;
  }
  throw new Error('invalid type for comparison');
}

function equal(left: TemplateValue, right: TemplateValue): boolean {
  if (left === null || right === null) return left === right;
  if (typeof left === 'boolean' || typeof right === 'boolean') {
    if (typeof left !== typeof right) throw new Error('incompatible types for comparison');
    return left === right;
  }
  return compare(left, right) === 0;
}

function index(value: TemplateValue, keys: readonly TemplateValue[]): TemplateValue {
  let current = value;
  for (const key of keys) {
    if (current instanceof Map) {
      if (typeof key !== 'string') throw new Error(`value has type ${goTypeName(key)}; should be string`);
      current = (current as ReadonlyMap<string, TemplateValue>).get(key) ?? '';
    } else if (Array.isArray(current)) {
      if (typeof key !== 'bigint') throw new Error(`cannot index slice/array with type ${goTypeName(key)}`);
      const element = (current as readonly TemplateValue[])[Number(key)];
      if (element === undefined) throw new Error(`index out of range: ${key}`);
      current = element;
    } else {
      throw new Error(`can't index item of type ${goTypeName(current)}`);
    }
  }
  return current;
}

function length(value: TemplateValue): bigint {
  if (typeof value === 'string') return BigInt(Buffer.byteLength(value, 'utf8'));
  if (value instanceof Map) return BigInt(value.size);
  if (Array.isArray(value)) return BigInt(value.length);
  throw new Error(`len of type ${goTypeName(value)}`);
}

const link = (expression: string, tab: number): string => `/graph?g0.expr=${goQueryEscape(expression)}&g0.tab=${tab}`;

const table: ReadonlyArray<readonly [string, TemplateFunction]> = [
  ['humanize', { arity: 1, call: ([value]) => humanize(toFloat(value!)) }],
  ['humanize1024', { arity: 1, call: ([value]) => humanize1024(toFloat(value!)) }],
  ['humanizeDuration', { arity: 1, call: ([value]) => humanizeDuration(toFloat(value!)) }],
  ['humanizePercentage', { arity: 1, call: ([value]) => `${g4(toFloat(value!) * 100)}%` }],
  ['humanizeTimestamp', {
    arity: 1,
    call: ([value]) => {
      const seconds = toFloat(value!);
      const time = floatToTime(seconds);
      return time === undefined ? g4(seconds) : formatGoTimeString(time.timeMs);
    },
  }],
  ['toTime', {
    arity: 1,
    call: ([value]) => {
      const time = floatToTime(toFloat(value!));
      if (time === undefined) throw new Error('value is NaN or Inf');
      return time;
    },
  }],
  ['title', { arity: 1, call: ([value]) => title(text(value!, 'title', 1)) }],
  ['toUpper', { arity: 1, call: ([value]) => text(value!, 'toUpper', 1).toUpperCase() }],
  ['toLower', { arity: 1, call: ([value]) => text(value!, 'toLower', 1).toLowerCase() }],
  ['match', { arity: 2, call: ([pattern, input]) => compileGoRegex(text(pattern!, 'match', 1)).test(text(input!, 'match', 2)) }],
  ['reReplaceAll', { arity: 3, call: ([pattern, replacement, input]) => reReplaceAll(text(pattern!, 'reReplaceAll', 1), text(replacement!, 'reReplaceAll', 2), text(input!, 'reReplaceAll', 3)) }],
  ['stripPort', { arity: 1, call: ([value]) => { const hostPort = text(value!, 'stripPort', 1); return splitHostPort(hostPort)?.host ?? hostPort; } }],
  ['stripDomain', { arity: 1, call: ([value]) => stripDomain(text(value!, 'stripDomain', 1)) }],
  ['graphLink', { arity: 1, call: ([value]) => link(text(value!, 'graphLink', 1), 0) }],
  ['tableLink', { arity: 1, call: ([value]) => link(text(value!, 'tableLink', 1), 1) }],
  ['args', { arity: [0, Infinity], call: (values) => new Map(values.map((value, position) => [`arg${position}`, value])) }],
  ['safeHtml', { arity: 1, call: ([value]) => text(value!, 'safeHtml', 1) }],
  ['parseDuration', {
    arity: 1,
    call: ([value]) => parseDurationMs(text(value!, 'parseDuration', 1)) / 1000,
  }],
  ['externalURL', { arity: 0, call: (_values, context) => context.externalUrl }],
  ['pathPrefix', { arity: 0, call: (_values, context) => (context.externalUrl === '' ? '' : new URL(context.externalUrl).pathname.replace(/\/$/, '')) }],
  ['printf', { arity: [1, Infinity], call: ([format, ...rest]) => goSprintf(text(format!, 'printf', 1), rest) }],
  ['print', { arity: [0, Infinity], call: (values) => sprint(values) }],
  ['println', { arity: [0, Infinity], call: (values) => `${values.map(printValue).join(' ')}\n` }],
  ['urlquery', { arity: [0, Infinity], call: (values) => goQueryEscape(sprint(values)) }],
  ['len', { arity: 1, call: ([value]) => length(value!) }],
  ['index', { arity: [1, Infinity], call: ([value, ...keys]) => index(value!, keys) }],
  ['not', { arity: 1, call: ([value]) => !isTrue(value!) }],
  ['eq', { arity: [2, Infinity], call: ([left, ...rest]) => rest.some((right) => equal(left!, right)) }],
  ['ne', { arity: 2, call: ([left, right]) => !equal(left!, right!) }],
  ['lt', { arity: 2, call: ([left, right]) => compare(left!, right!) < 0 }],
  ['le', { arity: 2, call: ([left, right]) => compare(left!, right!) <= 0 }],
  ['gt', { arity: 2, call: ([left, right]) => compare(left!, right!) > 0 }],
  ['ge', { arity: 2, call: ([left, right]) => compare(left!, right!) >= 0 }],
];

/** Every callable function by name (`and` and `or` are special forms in the executor). */
export const templateFunctions: ReadonlyMap<string, TemplateFunction> = new Map(table);

/** Functions Prometheus or Go has that keel's subset does not, with the reason. */
export const unsupportedTemplateFunctions: ReadonlyMap<string, string> = new Map([
  ['query', 'templates cannot run queries in keel'],
  ['first', 'it works on query results, and templates cannot run queries in keel'],
  ['label', 'it works on query results, and templates cannot run queries in keel'],
  ['value', 'it works on query results, and templates cannot run queries in keel'],
  ['strvalue', 'it works on query results, and templates cannot run queries in keel'],
  ['sortByLabel', 'it works on query results, and templates cannot run queries in keel'],
  ['html', 'templates are expanded as text'],
  ['js', 'templates are expanded as text'],
  ['call', 'templates hold no function values'],
  ['slice', 'templates hold no slices to cut'],
]);

/** Names the parser accepts as functions. */
export function isTemplateFunction(name: string): boolean {
  return name === 'and' || name === 'or' || templateFunctions.has(name);
}
