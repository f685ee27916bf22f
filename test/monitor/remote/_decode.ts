/**
 * A small, independent protobuf reader for the tests: walks fields generically (varint, fixed64,
 * length-delimited), then maps WriteRequest / ReadResponse field numbers to plain objects. It shares no
 * code with the encoder under test.
 */

export interface DecodedSample { timestampMs: number; value: number; valueBits: bigint }
export interface DecodedSeries { labels: [string, string][]; samples: DecodedSample[] }
export interface DecodedMetadata { type: number; metricFamilyName: string; help: string; unit: string }
export interface DecodedWriteRequest { timeseries: DecodedSeries[]; metadata: DecodedMetadata[] }

type Field = { number: number; wireType: 0; varint: bigint } | { number: number; wireType: 1; fixed64: bigint } | { number: number; wireType: 2; bytes: Uint8Array };

function readVarint(bytes: Uint8Array, start: number): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  let position = start;
  for (;;) {
    const byte = bytes[position];
    if (byte === undefined) throw new Error(`truncated varint at ${start}`);
    position += 1;
    result |= BigInt(byte & 0x7f) << shift;
    if (byte < 0x80) return [result, position];
    shift += 7n;
    if (shift > 63n) throw new Error(`varint too long at ${start}`);
  }
}

export function readFields(bytes: Uint8Array): Field[] {
  const fields: Field[] = [];
  let position = 0;
  while (position < bytes.length) {
    const [key, afterKey] = readVarint(bytes, position);
    const number = Number(key >> 3n);
    const wireType = Number(key & 7n);
    position = afterKey;
    if (wireType === 0) {
      const [varint, next] = readVarint(bytes, position);
      fields.push({ number, wireType, varint });
      position = next;
    } else if (wireType === 1) {
      if (position + 8 > bytes.length) throw new Error('truncated fixed64');
      const view = new DataView(bytes.buffer, bytes.byteOffset + position, 8);
      fields.push({ number, wireType, fixed64: view.getBigUint64(0, true) });
      position += 8;
    } else if (wireType === 2) {
      const [length, next] = readVarint(bytes, position);
      const end = next + Number(length);
      if (end > bytes.length) throw new Error('truncated length-delimited field');
      fields.push({ number, wireType, bytes: bytes.subarray(next, end) });
      position = end;
    } else {
      throw new Error(`unexpected wire type ${wireType}`);
    }
  }
  return fields;
}

const text = (bytes: Uint8Array): string => new TextDecoder('utf-8', { fatal: true }).decode(bytes);

function bitsToFloat(bits: bigint): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, bits, true);
  return view.getFloat64(0, true);
}

function decodeSample(bytes: Uint8Array): DecodedSample {
  let valueBits = 0n;
  let timestampMs = 0;
  for (const field of readFields(bytes)) {
    if (field.number === 1 && field.wireType === 1) valueBits = field.fixed64;
    else if (field.number === 2 && field.wireType === 0) timestampMs = Number(BigInt.asIntN(64, field.varint));
    else throw new Error(`unexpected Sample field ${field.number}`);
  }
  return { timestampMs, value: bitsToFloat(valueBits), valueBits };
}

function decodeLabel(bytes: Uint8Array): [string, string] {
  let name = '';
  let value = '';
  for (const field of readFields(bytes)) {
    if (field.wireType !== 2) throw new Error('Label fields are strings');
    if (field.number === 1) name = text(field.bytes);
    else if (field.number === 2) value = text(field.bytes);
    else throw new Error(`unexpected Label field ${field.number}`);
  }
  return [name, value];
}

export function decodeTimeSeries(bytes: Uint8Array): DecodedSeries {
  const series: DecodedSeries = { labels: [], samples: [] };
  for (const field of readFields(bytes)) {
    if (field.wireType !== 2) throw new Error('TimeSeries fields are messages');
    if (field.number === 1) series.labels.push(decodeLabel(field.bytes));
    else if (field.number === 2) series.samples.push(decodeSample(field.bytes));
    else throw new Error(`unexpected TimeSeries field ${field.number}`);
  }
  return series;
}

function decodeMetadata(bytes: Uint8Array): DecodedMetadata {
  const metadata: DecodedMetadata = { type: 0, metricFamilyName: '', help: '', unit: '' };
  for (const field of readFields(bytes)) {
    if (field.number === 1 && field.wireType === 0) metadata.type = Number(field.varint);
    else if (field.wireType === 2 && field.number === 2) metadata.metricFamilyName = text(field.bytes);
    else if (field.wireType === 2 && field.number === 4) metadata.help = text(field.bytes);
    else if (field.wireType === 2 && field.number === 5) metadata.unit = text(field.bytes);
    else throw new Error(`unexpected MetricMetadata field ${field.number}`);
  }
  return metadata;
}

export function decodeWriteRequest(bytes: Uint8Array): DecodedWriteRequest {
  const request: DecodedWriteRequest = { timeseries: [], metadata: [] };
  for (const field of readFields(bytes)) {
    if (field.wireType !== 2) throw new Error('WriteRequest fields are messages');
    if (field.number === 1) request.timeseries.push(decodeTimeSeries(field.bytes));
    else if (field.number === 3) request.metadata.push(decodeMetadata(field.bytes));
    else throw new Error(`unexpected WriteRequest field ${field.number}`);
  }
  return request;
}

/** ReadResponse { repeated QueryResult results = 1 } / QueryResult { repeated TimeSeries timeseries = 1 }. */
export function decodeReadResponse(bytes: Uint8Array): DecodedSeries[][] {
  return readFields(bytes).map((result) => {
    if (result.number !== 1 || result.wireType !== 2) throw new Error('ReadResponse holds QueryResults');
    return readFields(result.bytes).map((series) => {
      if (series.number !== 1 || series.wireType !== 2) throw new Error('QueryResult holds TimeSeries');
      return decodeTimeSeries(series.bytes);
    });
  });
}
