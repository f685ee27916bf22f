/**
 * etcdctl 3.4's output formats: JSON as Go's encoding/json prints etcd's gogo-protobuf structs (snake_case
 * header fields, `omitempty`, bytes in base64, 64-bit integers as bare numbers), tables as its tablewriter
 * draws them, sizes as go-humanize writes them.
 */
import type { Event, KeyValue, Member, ResponseHeader } from '../server/proto/index.ts';

/** A JSON value whose bigints print as bare numbers and whose bytes print as base64. */
export type JsonValue = string | number | bigint | boolean | Uint8Array | readonly JsonValue[] | { readonly [key: string]: JsonValue | undefined } | undefined;

/** Like JSON.stringify, with bigints unquoted (Go prints uint64 exactly) and bytes in base64. */
export function jsonText(value: JsonValue): string {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return JSON.stringify(Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64'));
  if (Array.isArray(value)) return `[${value.map((item: JsonValue) => jsonText(item)).join(',')}]`;
  if (typeof value === 'object') {
    const parts: string[] = [];
    for (const [key, item] of Object.entries(value)) if (item !== undefined) parts.push(`${JSON.stringify(key)}:${jsonText(item)}`);
    return `{${parts.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function isEmpty(value: JsonValue): boolean {
  if (value === undefined || value === 0 || value === 0n || value === '' || value === false) return true;
  if (Array.isArray(value) || value instanceof Uint8Array) return value.length === 0;
  return false;
}

/** An object with Go's `omitempty`: zero values are left out. */
export function omitEmpty(entries: Readonly<Record<string, JsonValue>>): Record<string, JsonValue> {
  const result: Record<string, JsonValue> = {};
  for (const [key, value] of Object.entries(entries)) if (!isEmpty(value)) result[key] = value;
  return result;
}

/** Header fields, which etcdctl prints either nested (`"header":{...}`) or flattened into the response. */
export function headerJson(header: ResponseHeader | undefined): Record<string, JsonValue> {
  return omitEmpty({ cluster_id: header?.clusterId, member_id: header?.memberId, revision: header?.revision, raft_term: header?.raftTerm });
}

export function keyValueJson(kv: KeyValue | undefined): Record<string, JsonValue> | undefined {
  if (kv === undefined) return undefined;
  return omitEmpty({ key: kv.key, create_revision: kv.createRevision, mod_revision: kv.modRevision, version: kv.version, value: kv.value, lease: kv.lease });
}

export function eventJson(event: Event): Record<string, JsonValue> {
  return omitEmpty({ type: event.type, kv: keyValueJson(event.kv), prev_kv: keyValueJson(event.prevKv) });
}

export function memberJson(member: Member): Record<string, JsonValue> {
  return omitEmpty({ ID: member.ID, name: member.name, peerURLs: member.peerURLs, clientURLs: member.clientURLs, isLearner: member.isLearner });
}

const byteUnits = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];

/** Rounds half to even, as Go's strconv does for a value exactly between two candidates. */
function formatFixed(value: number, digits: number): string {
  const scale = 10 ** digits;
  const scaled = value * scale;
  const floor = Math.floor(scaled);
  const rounded = scaled - floor === 0.5 ? (floor % 2 === 0 ? floor : floor + 1) : Math.round(scaled);
  return (rounded / scale).toFixed(digits);
}

/** go-humanize's `Bytes`: SI units, one decimal below 10. */
export function humanBytes(bytes: number): string {
  if (bytes < 10) return `${bytes} B`;
  const exponent = Math.min(byteUnits.length - 1, Math.floor(Math.log(bytes) / Math.log(1000)));
  const value = Math.floor((bytes / 1000 ** exponent) * 10 + 0.5) / 10;
  return `${formatFixed(value, value < 10 ? 1 : 0)} ${byteUnits[exponent]}`;
}

/** Go's `time.Duration.String()` for a duration in milliseconds (microsecond precision is enough here). */
export function goDuration(milliseconds: number): string {
  const nanoseconds = Math.round(milliseconds * 1e6);
  if (nanoseconds < 1000) return `${nanoseconds}ns`;
  const trim = (text: string): string => text.replace(/\.?0+$/, '');
  if (nanoseconds < 1e6) return `${trim((nanoseconds / 1e3).toFixed(3))}µs`;
  if (nanoseconds < 1e9) return `${trim((nanoseconds / 1e6).toFixed(6))}ms`;
  return `${trim((nanoseconds / 1e9).toFixed(9))}s`;
}

/** A table as etcdctl draws it: headers centred, cells right-aligned, rules above, below and after the header. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)));
  const rule = `+${widths.map((width) => '-'.repeat(width + 2)).join('+')}+`;
  const centre = (text: string, width: number): string => {
    const gap = width - text.length;
    const left = Math.floor(gap / 2);
    return ' '.repeat(left) + text + ' '.repeat(gap - left);
  };
  const headerLine = `|${headers.map((header, column) => ` ${centre(header, widths[column]!)} `).join('|')}|`;
  const lines = [rule, headerLine, rule];
  for (const row of rows) lines.push(`|${widths.map((width, column) => ` ${(row[column] ?? '').padStart(width)} `).join('|')}|`);
  lines.push(rule);
  return lines.join('\n');
}

/** A lease or member ID as etcdctl prints it in messages: hexadecimal, 16 digits. */
export function hex16(id: bigint): string {
  return BigInt.asUintN(64, id).toString(16).padStart(16, '0');
}

/** Go's `%16x`: hexadecimal, space-padded to 16. */
export function hexSpace16(id: bigint): string {
  return BigInt.asUintN(64, id).toString(16).padStart(16, ' ');
}
