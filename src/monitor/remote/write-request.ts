/**
 * The remote-write 1.0 body before compression: a `prometheus.WriteRequest` protobuf message, written by
 * hand (prompb/remote.proto and types.proto, Prometheus 2.42):
 *
 *     WriteRequest   { repeated TimeSeries timeseries = 1; reserved 2; repeated MetricMetadata metadata = 3; }
 *     TimeSeries     { repeated Label labels = 1; repeated Sample samples = 2; }
 *     Label          { string name = 1; string value = 2; }
 *     Sample         { double value = 1; int64 timestamp = 2; }
 *     MetricMetadata { MetricType type = 1; string metric_family_name = 2; string help = 4; string unit = 5; }
 *
 * Labels come from a sorted {@link Labels}, so they are in the order the spec requires. Fields equal to
 * their proto3 default are left out, as gogo-protobuf does, except that a value is compared by its bits: a
 * negative zero is written. The staleness marker is written with its exact bits, 0x7ff0000000000002.
 *
 * @example
 * const body = encodeWriteRequest({
 *   timeseries: [{ labels: Labels.fromRecord({ __name__: 'up', job: 'keel' }), samples: [{ timestampMs: 1000, value: 1 }] }],
 * });
 */
import { assert, floatHighBits, floatLowBits, metricNameLabel, staleMarkerHighBits, staleMarkerLowBits } from '../tsdb/index.ts';
import type { Labels } from '../tsdb/index.ts';
import { RemoteWriteError } from './errors.ts';
import {
  lengthDelimitedFieldBytes, ProtobufWriter, varintBytes, wireTypeFixed64, wireTypeLengthDelimited, wireTypeVarint,
} from './_protobuf.ts';

/** The largest uncompressed request accepted: far above a batch of max_samples_per_send samples. */
export const writeRequestBytesMax = 64 * 1024 * 1024;
/** The quiet NaN a JavaScript engine may turn the staleness marker into (same payload, quiet bit set). */
const quietStaleMarkerHighBits = staleMarkerHighBits | 0x0008_0000;

export interface SampleInput {
  readonly timestampMs: number;
  readonly value: number;
}

export interface TimeSeriesInput {
  /** Must hold `__name__`. */
  readonly labels: Labels;
  /** In timestamp order (equal timestamps allowed); at least one. */
  readonly samples: readonly SampleInput[];
}

/** Prometheus's metric types, in the enum's order (UNKNOWN = 0 ... STATESET = 7). */
export const metricTypes = ['unknown', 'counter', 'gauge', 'histogram', 'gaugehistogram', 'summary', 'info', 'stateset'] as const;
export type MetricType = (typeof metricTypes)[number];

export interface MetricMetadataInput {
  readonly type: MetricType;
  readonly metricFamilyName: string;
  readonly help: string;
  readonly unit: string;
}

export interface WriteRequestInput {
  readonly timeseries: readonly TimeSeriesInput[];
  readonly metadata?: readonly MetricMetadataInput[];
}

/**
 * Whether `value` is Prometheus's staleness marker, in its signalling form or in the quiet form an engine
 * may have turned it into; the payload (low word 2) tells it from an ordinary NaN.
 *
 * @example
 * isStaleMarkerValue(Number.NaN); // false
 */
export function isStaleMarkerValue(value: number): boolean {
  if (!Number.isNaN(value) || floatLowBits(value) !== staleMarkerLowBits) return false;
  const high = floatHighBits(value);
  return high === staleMarkerHighBits || high === quietStaleMarkerHighBits;
}

/**
 * Encodes a WriteRequest. Throws a {@link RemoteWriteError}: `REMOTE_INVALID_ARGUMENT` for a series without
 * `__name__` or samples, a timestamp that is not a safe integer, samples out of timestamp order or an
 * unknown metric type; `REMOTE_REQUEST_TOO_LARGE` above {@link writeRequestBytesMax}.
 *
 * @example
 * const labels = Labels.fromRecord({ __name__: 'up' });
 * encodeWriteRequest({ timeseries: [{ labels, samples: [{ timestampMs: 1, value: 1 }] }] }).length; // 31
 */
export function encodeWriteRequest(request: WriteRequestInput): Uint8Array {
  const metadata = request.metadata ?? [];
  const seriesSizes = request.timeseries.map((series) => timeSeriesBytes(series));
  const metadataSizes = metadata.map((entry) => metadataBytes(entry));
  let size = 0;
  for (const seriesSize of seriesSizes) size += lengthDelimitedFieldBytes(seriesSize);
  for (const metadataSize of metadataSizes) size += lengthDelimitedFieldBytes(metadataSize);
  if (size > writeRequestBytesMax) {
    throw new RemoteWriteError('REMOTE_REQUEST_TOO_LARGE', `The write request would take ${size} bytes, more than ${writeRequestBytesMax} (writeRequestBytesMax).`);
  }
  const writer = new ProtobufWriter(size);
  request.timeseries.forEach((series, index) => {
    writer.tag(1, wireTypeLengthDelimited);
    writer.varint(seriesSizes[index]!);
    writeTimeSeries(writer, series);
  });
  metadata.forEach((entry, index) => {
    writer.tag(3, wireTypeLengthDelimited);
    writer.varint(metadataSizes[index]!);
    writeMetadata(writer, entry);
  });
  assert(writer.position === size, 'the request fills its sized buffer exactly');
  return writer.bytes;
}

/**
 * The `repeated Label labels = 1` fields of a series, cached per (immutable) label set: the queue keeps one
 * Labels object per series, so a series' labels are encoded once, not once per batch. The WeakMap holds
 * nothing a live series does not already keep alive.
 */
const encodedLabelsCache = new WeakMap<Labels, Uint8Array>();

/**
 * The encoded `labels` fields of a TimeSeries for `labels`. Throws `REMOTE_INVALID_ARGUMENT` when the set has
 * no `__name__`.
 *
 * @example
 * encodeLabelFields(Labels.fromRecord({ __name__: 'up' })).length; // 16
 */
export function encodeLabelFields(labels: Labels): Uint8Array {
  const cached = encodedLabelsCache.get(labels);
  if (cached !== undefined) return cached;
  if (!labels.has(metricNameLabel)) {
    throw new RemoteWriteError('REMOTE_INVALID_ARGUMENT', `Series ${labels.toString()} has no ${metricNameLabel} label; remote write requires one.`);
  }
  const nameBytes: number[] = [];
  const valueBytes: number[] = [];
  let size = 0;
  for (let index = 0; index < labels.size; index += 1) {
    nameBytes.push(Buffer.byteLength(labels.nameAt(index), 'utf8'));
    valueBytes.push(Buffer.byteLength(labels.valueAt(index), 'utf8'));
    size += lengthDelimitedFieldBytes(labelBytes(nameBytes[index]!, valueBytes[index]!));
  }
  const writer = new ProtobufWriter(size);
  for (let index = 0; index < labels.size; index += 1) {
    writer.tag(1, wireTypeLengthDelimited);
    writer.varint(labelBytes(nameBytes[index]!, valueBytes[index]!));
    writer.tag(1, wireTypeLengthDelimited);
    writer.string(labels.nameAt(index), nameBytes[index]!);
    writer.tag(2, wireTypeLengthDelimited);
    writer.string(labels.valueAt(index), valueBytes[index]!);
  }
  assert(writer.position === size, 'the labels fill their sized buffer exactly');
  encodedLabelsCache.set(labels, writer.bytes);
  return writer.bytes;
}

function labelBytes(nameBytes: number, valueBytes: number): number {
  // Label values are never empty in a Labels set, and names never are, so both fields are always present.
  return lengthDelimitedFieldBytes(nameBytes) + lengthDelimitedFieldBytes(valueBytes);
}

function timeSeriesBytes(series: TimeSeriesInput): number {
  if (series.samples.length === 0) {
    throw new RemoteWriteError('REMOTE_INVALID_ARGUMENT', `Series ${series.labels.toString()} has no samples.`);
  }
  let size = encodeLabelFields(series.labels).length;
  let previousMs = Number.NEGATIVE_INFINITY;
  for (const sample of series.samples) {
    if (!Number.isSafeInteger(sample.timestampMs)) {
      throw new RemoteWriteError('REMOTE_INVALID_ARGUMENT', `Sample timestamp ${sample.timestampMs} of ${series.labels.toString()} is not an integer number of milliseconds.`);
    }
    if (sample.timestampMs < previousMs) {
      throw new RemoteWriteError('REMOTE_INVALID_ARGUMENT', `Samples of ${series.labels.toString()} are out of timestamp order (${sample.timestampMs} after ${previousMs}).`);
    }
    previousMs = sample.timestampMs;
    size += lengthDelimitedFieldBytes(sampleBytes(sample));
  }
  return size;
}

function sampleBytes(sample: SampleInput): number {
  const valueField = hasValueBits(sample.value) ? 1 + 8 : 0;
  const timestampField = sample.timestampMs === 0 ? 0 : 1 + varintBytes(sample.timestampMs);
  return valueField + timestampField;
}

/** Whether the value differs from +0 in its bits (so -0 and every NaN are written). */
function hasValueBits(value: number): boolean {
  return value !== 0 || Object.is(value, -0);
}

function writeTimeSeries(writer: ProtobufWriter, series: TimeSeriesInput): void {
  // The cached bytes hold every `labels` field with its tag.
  writer.raw(encodeLabelFields(series.labels));
  for (const sample of series.samples) {
    writer.tag(2, wireTypeLengthDelimited);
    writer.varint(sampleBytes(sample));
    writeSample(writer, sample);
  }
}

function writeSample(writer: ProtobufWriter, sample: SampleInput): void {
  if (hasValueBits(sample.value)) {
    writer.tag(1, wireTypeFixed64);
    if (isStaleMarkerValue(sample.value)) writer.fixed64(staleMarkerHighBits, staleMarkerLowBits);
    else writer.fixed64(floatHighBits(sample.value), floatLowBits(sample.value));
  }
  if (sample.timestampMs !== 0) {
    writer.tag(2, wireTypeVarint);
    writer.varint(sample.timestampMs);
  }
}

function metadataBytes(entry: MetricMetadataInput): number {
  const typeIndex = metricTypes.indexOf(entry.type);
  if (typeIndex < 0) throw new RemoteWriteError('REMOTE_INVALID_ARGUMENT', `Unknown metric type ${JSON.stringify(entry.type)}.`);
  let size = typeIndex === 0 ? 0 : 1 + varintBytes(typeIndex);
  for (const text of [entry.metricFamilyName, entry.help, entry.unit]) {
    if (text !== '') size += lengthDelimitedFieldBytes(Buffer.byteLength(text, 'utf8'));
  }
  return size;
}

function writeMetadata(writer: ProtobufWriter, entry: MetricMetadataInput): void {
  const typeIndex = metricTypes.indexOf(entry.type);
  if (typeIndex !== 0) {
    writer.tag(1, wireTypeVarint);
    writer.varint(typeIndex);
  }
  const fields: readonly [number, string][] = [[2, entry.metricFamilyName], [4, entry.help], [5, entry.unit]];
  for (const [field, text] of fields) {
    if (text === '') continue;
    writer.tag(field, wireTypeLengthDelimited);
    writer.string(text, Buffer.byteLength(text, 'utf8'));
  }
}
