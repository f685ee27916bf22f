// HPACK (RFC 7541): the decoder against the RFC's Appendix C examples, known Huffman codes and malformed input;
// the encoder's exact output and round trips through the decoder; and the decoder against node's own HTTP/2
// client (nghttp2, which uses Huffman coding and the dynamic table).
import test from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http2 from 'node:http2';
import { Buffer } from 'node:buffer';
import { HeaderListTooLargeError, HpackDecoder, HpackEncoder, HpackError } from '../../../../src/server/grpc/h2/hpack.ts';
import type { HeaderPair } from '../../../../src/server/grpc/h2/hpack.ts';

/** Bytes from a hex dump as the RFC prints it (spaces ignored). */
function hex(dump: string): Uint8Array {
  return Uint8Array.from(Buffer.from(dump.replace(/\s+/g, ''), 'hex'));
}

/** An indexed header field (7-bit prefix integer, RFC 7541 §5.1) for `index`. */
function indexedField(index: number): number[] {
  if (index < 127) return [0x80 | index];
  const octets = [0xff];
  let rest = index - 127;
  for (; rest >= 128; rest >>= 7) octets.push(0x80 | (rest & 0x7f));
  return [...octets, rest];
}

/** The dynamic table's entries, newest first, read back with indexed fields 62.. (which change no state). */
function dynamicEntries(decoder: HpackDecoder, count: number): HeaderPair[] {
  return decoder.decode(Uint8Array.from(Array.from({ length: count }, (_, index) => indexedField(62 + index)).flat()));
}

/** Asserts that decoding `block` fails with an HpackError whose message matches `message`. */
function assertHpackError(decoder: HpackDecoder, block: Uint8Array, message: RegExp): void {
  assert.throws(() => decoder.decode(block), (error: unknown) => {
    assert.ok(error instanceof HpackError, `expected an HpackError, got ${String(error)}`);
    assert.equal(error.code, 'COMPRESSION_ERROR');
    assert.match(error.message, message);
    return true;
  });
}

/** Huffman code from (code, bit length) pairs, padded with ones to an octet boundary plus `extraOnes` more ones. */
function huffmanBytes(codes: readonly (readonly [code: number, bits: number])[], extraOnes = 0): Uint8Array {
  let bits = '';
  for (const [code, length] of codes) bits += code.toString(2).padStart(length, '0');
  bits += '1'.repeat(extraOnes);
  bits = bits.padEnd(Math.ceil(bits.length / 8) * 8, '1');
  return Uint8Array.from({ length: bits.length / 8 }, (_, index) => parseInt(bits.slice(8 * index, 8 * index + 8), 2));
}

/** A block with one literal field without indexing, name "x", value given as Huffman code (length < 127). */
function huffmanValueBlock(code: Uint8Array): Uint8Array {
  assert.ok(code.length < 127);
  return Uint8Array.from([0x00, 0x01, 0x78, 0x80 | code.length, ...code]);
}

test('RFC 7541 C.2: one field of each representation', () => {
  const withIndexing = new HpackDecoder();
  assert.deepEqual(withIndexing.decode(hex('400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572')), [['custom-key', 'custom-header']]);
  assert.deepEqual(dynamicEntries(withIndexing, 1), [['custom-key', 'custom-header']]);

  const withoutIndexing = new HpackDecoder();
  assert.deepEqual(withoutIndexing.decode(hex('040c 2f73 616d 706c 652f 7061 7468')), [[':path', '/sample/path']]);
  assertHpackError(withoutIndexing, hex('be'), /index 62 is beyond/);

  const neverIndexed = new HpackDecoder();
  assert.deepEqual(neverIndexed.decode(hex('1008 7061 7373 776f 7264 0673 6563 7265 74')), [['password', 'secret']]);
  assertHpackError(neverIndexed, hex('be'), /index 62 is beyond/);

  const indexed = new HpackDecoder();
  assert.deepEqual(indexed.decode(hex('82')), [[':method', 'GET']]);
  assertHpackError(indexed, hex('be'), /index 62 is beyond/);
});

/** The three requests of RFC 7541 C.3 / C.4, decoded in order by one decoder. */
function checkRequests(blocks: readonly string[]): void {
  const decoder = new HpackDecoder();
  const first: HeaderPair[] = [[':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'www.example.com']];
  assert.deepEqual(decoder.decode(hex(blocks[0]!)), first);
  assert.deepEqual(dynamicEntries(decoder, 1), [[':authority', 'www.example.com']]);

  assert.deepEqual(decoder.decode(hex(blocks[1]!)), [...first, ['cache-control', 'no-cache']]);
  assert.deepEqual(dynamicEntries(decoder, 2), [['cache-control', 'no-cache'], [':authority', 'www.example.com']]);

  assert.deepEqual(decoder.decode(hex(blocks[2]!)), [
    [':method', 'GET'], [':scheme', 'https'], [':path', '/index.html'], [':authority', 'www.example.com'], ['custom-key', 'custom-value'],
  ]);
  assert.deepEqual(dynamicEntries(decoder, 3), [['custom-key', 'custom-value'], ['cache-control', 'no-cache'], [':authority', 'www.example.com']]);
  assertHpackError(decoder, hex('c1'), /index 65 is beyond the table \(64 entries\)/);
}

test('RFC 7541 C.3: requests without Huffman coding share the dynamic table', () => {
  checkRequests([
    '8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d',
    '8286 84be 5808 6e6f 2d63 6163 6865',
    '8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65',
  ]);
});

test('RFC 7541 C.4: requests with Huffman coding share the dynamic table', () => {
  checkRequests([
    '8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff',
    '8286 84be 5886 a8eb 1064 9cbf',
    '8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf',
  ]);
});

/** The three responses of RFC 7541 C.5 / C.6, decoded in order by one decoder with a 256-octet table. */
function checkResponses(blocks: readonly string[]): void {
  const decoder = new HpackDecoder({ tableBytesMax: 256 });
  const location: HeaderPair = ['location', 'https://www.example.com'];
  const date21: HeaderPair = ['date', 'Mon, 21 Oct 2013 20:13:21 GMT'];
  const date22: HeaderPair = ['date', 'Mon, 21 Oct 2013 20:13:22 GMT'];
  const cachePrivate: HeaderPair = ['cache-control', 'private'];
  const cookie: HeaderPair = ['set-cookie', 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1'];

  assert.deepEqual(decoder.decode(hex(blocks[0]!)), [[':status', '302'], cachePrivate, date21, location]);
  assert.deepEqual(dynamicEntries(decoder, 4), [location, date21, cachePrivate, [':status', '302']]);

  // Adding ":status: 307" evicts ":status: 302".
  assert.deepEqual(decoder.decode(hex(blocks[1]!)), [[':status', '307'], cachePrivate, date21, location]);
  assert.deepEqual(dynamicEntries(decoder, 4), [[':status', '307'], location, date21, cachePrivate]);

  // Several evictions: only the three newest entries (215 octets) remain.
  assert.deepEqual(decoder.decode(hex(blocks[2]!)), [[':status', '200'], cachePrivate, date22, location, ['content-encoding', 'gzip'], cookie]);
  assert.deepEqual(dynamicEntries(decoder, 3), [cookie, ['content-encoding', 'gzip'], date22]);
  assertHpackError(decoder, hex('c1'), /index 65 is beyond the table \(64 entries\)/);
}

test('RFC 7541 C.5: responses without Huffman coding evict from a 256-octet table', () => {
  checkResponses([
    `4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133
     2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d`,
    '4803 3330 37c1 c0bf',
    `88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d
     54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049
     5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31`,
  ]);
});

test('RFC 7541 C.6: responses with Huffman coding evict from a 256-octet table', () => {
  checkResponses([
    `4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6
     2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3`,
    '4883 640e ffc1 c0bf',
    `88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab
     77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f
     9587 3160 65c0 03ed 4ee5 b106 3d50 07`,
  ]);
});

test('Huffman decoding matches known codes of RFC 7541 Appendix B', () => {
  const decoder = new HpackDecoder();
  const known: readonly (readonly [symbol: number, code: number, bits: number])[] = [
    [0x30, 0b00000, 5], // '0'
    [0x61, 0b00011, 5], // 'a'
    [0x20, 0b010100, 6], // ' '
    [0x3a, 0b1011100, 7], // ':'
    [0x7e, 0x1ffd, 13], // '~'
    [0x00, 0x1ff8, 13],
    [0x5c, 0x7fff0, 19], // '\'
    [0x80, 0xfffe6, 20],
    [0x01, 0x7fffd8, 23],
    [0x09, 0xffffea, 24], // tab
    [0xff, 0x3ffffee, 26],
    [0xdc, 0xffffffd, 28],
    [0x0a, 0x3ffffffc, 30], // '\n'
    [0x16, 0x3ffffffe, 30],
  ];
  for (const [symbol, code, bits] of known) {
    const value = decoder.decode(huffmanValueBlock(huffmanBytes([[code, bits]])))[0]![1];
    assert.equal(value, String.fromCharCode(symbol), `symbol 0x${symbol.toString(16)}`);
  }
  // All of them in one string, so codes follow each other across octet boundaries.
  const all = huffmanBytes(known.map(([, code, bits]) => [code, bits] as const));
  assert.deepEqual(decoder.decode(huffmanValueBlock(all)), [['x', String.fromCharCode(...known.map(([symbol]) => symbol))]]);
  // An empty Huffman string, and a string ending exactly on an octet boundary ("00000" "00011" "010100" = 16 bits).
  assert.deepEqual(decoder.decode(hex('0001 7880')), [['x', '']]);
  assert.deepEqual(decoder.decode(huffmanValueBlock(hex('00d4'))), [['x', '0a ']]);
});

test('Huffman decoding rejects EOS and bad padding', () => {
  const decoder = new HpackDecoder();
  const a: readonly [number, number] = [0b00011, 5];
  // EOS is 30 ones: 'a' then 30 ones (then 5 more of padding) holds EOS.
  assertHpackError(decoder, huffmanValueBlock(huffmanBytes([a], 30)), /EOS/);
  // 27 ones after 'a' (32 bits in all) are a prefix of EOS: too much padding rather than EOS.
  assertHpackError(decoder, huffmanValueBlock(huffmanBytes([a], 27)), /padding/);
  // A whole octet of padding (8 ones) is too long; 7 ones are fine.
  assertHpackError(decoder, huffmanValueBlock(hex('ff')), /padding/);
  assert.deepEqual(decoder.decode(huffmanValueBlock(huffmanBytes([a, a, a]))), [['x', 'aaa']]);
  assertHpackError(decoder, huffmanValueBlock(hex('1fff')), /padding/); // 'a' + 11 ones
  // Padding that is not all ones: 'a' then 011.
  assertHpackError(decoder, huffmanValueBlock(hex('1b')), /padding/);
});

test('integers: the RFC 7541 C.1 examples, multi-octet values and overflow', () => {
  // 10 in a 5-bit prefix (C.1.1), as a table size update.
  assert.deepEqual(new HpackDecoder({ tableBytesMax: 10 }).decode(hex('2a 82')), [[':method', 'GET']]);
  assertHpackError(new HpackDecoder({ tableBytesMax: 9 }), hex('2a 82'), /update to 10 exceeds the limit of 9/);
  // 1337 in a 5-bit prefix (C.1.2).
  assert.deepEqual(new HpackDecoder({ tableBytesMax: 1337 }).decode(hex('3f 9a 0a')), []);
  assertHpackError(new HpackDecoder({ tableBytesMax: 1336 }), hex('3f 9a 0a'), /update to 1337 exceeds/);
  // A name index of 17 (15 + 2) in a 4-bit prefix, then zero continuation octets: up to five are accepted.
  const decoder = new HpackDecoder();
  assert.deepEqual(decoder.decode(hex('0f 02 01 65')), [['accept-language', 'e']]);
  assert.deepEqual(decoder.decode(hex('0f 82 80 80 80 00 01 65')), [['accept-language', 'e']]);
  assertHpackError(decoder, hex('0f 82 80 80 80 80 00 01 65'), /too long/);
  // A 7-bit string length of 200 (127 + 73).
  assert.deepEqual(decoder.decode(Uint8Array.from([0x00, 0x01, 0x78, 0x7f, 73, ...Buffer.from('v'.repeat(200))])), [['x', 'v'.repeat(200)]]);
  assertHpackError(decoder, hex('ff'), /truncated integer/);
  assertHpackError(decoder, hex('ff 80'), /truncated integer/);
  assertHpackError(decoder, hex('00 7f'), /truncated integer/);
  assertHpackError(decoder, hex('00'), /truncated string/);
  assertHpackError(decoder, hex('ff ff ff ff ff 0f'), /too large/);
  assertHpackError(decoder, hex('ff 80 80 80 80 80 00'), /too long/);
});

test('decode reads a block inside a larger array, as a Uint8Array or a Buffer', () => {
  const block = hex('4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3120 474d 54');
  const expected: HeaderPair[] = [[':status', '302'], ['cache-control', 'private'], ['date', 'Mon, 21 Oct 2013 20:13:21 GMT']];
  const surrounded = new Uint8Array(block.length + 10).fill(0xbe);
  surrounded.set(block, 7);
  assert.deepEqual(new HpackDecoder().decode(surrounded.subarray(7, 7 + block.length)), expected);
  const buffer = Buffer.from(surrounded.buffer, 7, block.length);
  assert.deepEqual(new HpackDecoder().decode(buffer), expected);
});

test('malformed blocks: bad indexes, strings past the end, misplaced or oversized table size updates', () => {
  const decoder = new HpackDecoder({ tableBytesMax: 100 });
  assertHpackError(decoder, hex('80'), /index 0/);
  assertHpackError(decoder, hex('be'), /index 62 is beyond the table \(61 entries\)/);
  assertHpackError(decoder, hex('ff 00'), /index 127 is beyond/);
  assertHpackError(decoder, hex('7e 01 65'), /index 62 is beyond/); // literal with indexing, name index 62
  assertHpackError(decoder, hex('00 05 61 62'), /runs past the block's end/);
  assertHpackError(decoder, hex('00 01 78 85 ff'), /runs past the block's end/);
  // A size update may only open a block; several in a row are fine.
  assertHpackError(decoder, hex('82 20'), /size update after a header field/);
  assertHpackError(decoder, hex('82 20 82'), /size update after a header field/);
  assert.deepEqual(decoder.decode(hex('20 3f 45 82')), [[':method', 'GET']]);
  // 31 + 69 = 100 is the limit; 101 is above it.
  assertHpackError(decoder, hex('3f 46'), /update to 101 exceeds the limit of 100/);
});

/** A literal field with incremental indexing and a literal name (raw strings shorter than 127 octets). */
function indexedLiteral(name: string, value: string): number[] {
  return [0x40, name.length, ...Buffer.from(name, 'latin1'), value.length, ...Buffer.from(value, 'latin1')];
}

test('dynamic table: eviction by size, size updates and entries larger than the table', () => {
  // Entries of 32 + 2 + 16 = 50 octets; the table holds two of them.
  const decoder = new HpackDecoder({ tableBytesMax: 100 });
  const entry = (index: number): HeaderPair => [`k${index}`, `${index}`.repeat(16).slice(0, 16)];
  for (let index = 1; index <= 3; index++) decoder.decode(Uint8Array.from(indexedLiteral(...entry(index))));
  assert.deepEqual(dynamicEntries(decoder, 2), [entry(3), entry(2)]);
  assertHpackError(decoder, hex('c0'), /index 64 is beyond/);

  // Shrinking to 99 octets evicts the oldest entry; growing back does not bring it back.
  assert.deepEqual(decoder.decode(hex('3f 44 3f 45')), []);
  assert.deepEqual(dynamicEntries(decoder, 1), [entry(3)]);
  assertHpackError(decoder, hex('bf'), /index 63 is beyond/);

  // An entry larger than the table empties it, and is still part of the header list.
  const large: HeaderPair = ['large', 'v'.repeat(64)];
  assert.deepEqual(decoder.decode(Uint8Array.from([...indexedLiteral(...large), 0x82])), [large, [':method', 'GET']]);
  assertHpackError(decoder, hex('be'), /index 62 is beyond/);

  // A size update to 0 empties the table too.
  decoder.decode(Uint8Array.from(indexedLiteral(...entry(4))));
  assert.deepEqual(dynamicEntries(decoder, 1), [entry(4)]);
  assert.deepEqual(decoder.decode(hex('20')), []);
  assertHpackError(decoder, hex('be'), /index 62 is beyond/);
});

test('dynamic table: many entries wrap around the ring', () => {
  const decoder = new HpackDecoder({ tableBytesMax: 4096 });
  // 2 + 3 + 32 = 37 octets each: the table holds 110 of them.
  for (let index = 0; index < 500; index++) decoder.decode(Uint8Array.from(indexedLiteral(`k${index % 10}`, `${index}`.padStart(3, '0'))));
  const entries = dynamicEntries(decoder, 110);
  assert.deepEqual(entries[0], ['k9', '499']);
  assert.deepEqual(entries[109], ['k0', '390']);
  assertHpackError(decoder, Uint8Array.from(indexedField(172)), /index 172 is beyond the table \(171 entries\)/);
});

test('a header list over headerListBytesMax throws after the whole block, and the decoder keeps going', () => {
  // Two entries of 32 + 5 + 20 = 57 octets: one fits a 100-octet list, both do not.
  const decoder = new HpackDecoder({ headerListBytesMax: 100 });
  const one: HeaderPair = ['x-one', 'a'.repeat(20)];
  const two: HeaderPair = ['x-two', 'b'.repeat(20)];
  assert.throws(() => decoder.decode(Uint8Array.from([...indexedLiteral(...one), ...indexedLiteral(...two)])), (error: unknown) => {
    assert.ok(error instanceof HeaderListTooLargeError);
    assert.match(error.message, /114 bytes exceeds the limit of 100/);
    return true;
  });
  // Both entries reached the dynamic table, in order.
  assert.deepEqual(decoder.decode(hex('be')), [two]);
  assert.deepEqual(decoder.decode(hex('bf')), [one]);
  // A list of exactly the limit passes: 57 + (32 + 3 + 8 = 43) = 100 ("age" is static index 21 = 15 + 6).
  assert.deepEqual(decoder.decode(Uint8Array.from([0xbf, 0x0f, 0x06, 0x08, ...Buffer.from('12345678')])), [one, ['age', '12345678']]);
  assert.throws(() => decoder.decode(Uint8Array.from([0xbf, 0x0f, 0x06, 0x09, ...Buffer.from('123456789')])), HeaderListTooLargeError);
  // Many small fields over the limit.
  assert.throws(() => decoder.decode(new Uint8Array(10).fill(0x82)), HeaderListTooLargeError);
  assert.deepEqual(decoder.decode(hex('be 82')), [two, [':method', 'GET']]);
});

test('encoder: exact representations', () => {
  const encoder = new HpackEncoder();
  const bytes = (headers: readonly HeaderPair[]): string => Buffer.from(encoder.encode(headers)).toString('hex');
  assert.equal(bytes([[':status', '200']]), '88');
  assert.equal(bytes([[':method', 'POST'], [':scheme', 'https'], [':path', '/'], [':authority', '']]), '83878481');
  // Static name, literal value, without indexing: ":status" is index 8, "content-type" 31 (15 + 16).
  assert.equal(bytes([[':status', '503']]), `0803${Buffer.from('503').toString('hex')}`);
  assert.equal(bytes([['content-type', 'application/grpc']]), `0f1010${Buffer.from('application/grpc').toString('hex')}`);
  // Literal name.
  assert.equal(bytes([['grpc-status', '0']]), `000b${Buffer.from('grpc-status').toString('hex')}0130`);
  // Values of 127 and 300 octets: multi-octet lengths (127 = 127 + 0; 300 = 127 + 173 = 0xad 0x01).
  assert.equal(bytes([['x', 'y'.repeat(127)]]).slice(0, 10), '0001787f00');
  assert.equal(bytes([['x', 'y'.repeat(300)]]).slice(0, 12), '0001787fad01');
  assert.equal(bytes([]), '');
  assert.throws(() => encoder.encode([['x', 'snow \u2603']]), TypeError);
});

test('encoder output decodes to the same headers', () => {
  const encoder = new HpackEncoder();
  const decoder = new HpackDecoder({ headerListBytesMax: 1 << 20 });
  const lists: readonly (readonly HeaderPair[])[] = [
    [[':status', '200'], ['content-type', 'application/grpc'], ['grpc-accept-encoding', 'identity']],
    [['grpc-status', '0'], ['grpc-message', '']],
    [['grpc-status', '13'], ['grpc-message', 'internal%20error: ' + 'x'.repeat(150)]],
    [[':method', 'POST'], [':scheme', 'http'], [':path', '/etcdserverpb.KV/Range'], [':authority', 'localhost:2379'], ['te', 'trailers']],
    [['x-empty', ''], ['', ''], ['accept-encoding', 'gzip, deflate'], ['accept-encoding', 'br'], ['user-agent', '']],
    [['x-latin1', '\u00e9\u00ff\u0000\u007f'], ['x-long', 'L'.repeat(20_000)], ['x-name-'.padEnd(200, 'n'), 'v']],
  ];
  for (const headers of lists) {
    const block = encoder.encode(headers);
    assert.ok(block.length <= HpackEncoder.maxEncodedBytes(headers));
    assert.deepEqual(decoder.decode(block), headers);
  }
});

test('encodeInto writes at an offset and refuses what does not fit', () => {
  const encoder = new HpackEncoder();
  // Lengths and indexes right at a prefix's limit (127 in 7 bits, "accept-charset" = 15 in 4 bits) take an extra octet.
  const headers: readonly HeaderPair[] = [
    [':status', '200'], ['content-type', 'application/grpc'], ['grpc-status', '0'], ['x-long', 'z'.repeat(200)], ['accept-charset', 'y'.repeat(127)],
  ];
  const expected = encoder.encode(headers);
  const out = new Uint8Array(5 + HpackEncoder.maxEncodedBytes(headers)).fill(0xee);
  const end = encoder.encodeInto(headers, out, 5);
  assert.equal(end, 5 + expected.length);
  assert.deepEqual(out.subarray(5, end), expected);
  assert.deepEqual([...out.subarray(0, 5)], [0xee, 0xee, 0xee, 0xee, 0xee]);
  // An output of exactly the right size fits; one octet less does not, whichever header ends up short.
  assert.equal(encoder.encodeInto(headers, new Uint8Array(3 + expected.length), 3), 3 + expected.length);
  assert.throws(() => encoder.encodeInto(headers, new Uint8Array(2 + expected.length), 3), RangeError);
  assert.throws(() => encoder.encodeInto([[':status', '200']], new Uint8Array(4), 4), RangeError);
  assert.throws(() => encoder.encodeInto(headers, out, -1), RangeError);
  assert.throws(() => encoder.encodeInto(headers, out, out.length + 1), RangeError);
  assert.equal(encoder.encodeInto([], new Uint8Array(0), 0), 0);
});

/** The complete header blocks in the frames a client sent (after the 24-octet preface), in order. */
function headerBlocks(bytes: Buffer): Buffer[] {
  const blocks: Buffer[] = [];
  let pending: Buffer[] = [];
  for (let offset = 24; offset + 9 <= bytes.length;) {
    const length = bytes.readUIntBE(offset, 3);
    const type = bytes[offset + 3]!;
    const flags = bytes[offset + 4]!;
    if (offset + 9 + length > bytes.length) break;
    let payload = bytes.subarray(offset + 9, offset + 9 + length);
    offset += 9 + length;
    if (type === 0x1) {
      const padding = (flags & 0x8) !== 0 ? payload[0]! : 0;
      if ((flags & 0x8) !== 0) payload = payload.subarray(1);
      if ((flags & 0x20) !== 0) payload = payload.subarray(5); // stream dependency and weight
      pending = [payload.subarray(0, payload.length - padding)];
    } else if (type === 0x9) {
      pending.push(payload);
    } else {
      continue;
    }
    if ((flags & 0x4) !== 0) blocks.push(Buffer.concat(pending));
  }
  return blocks;
}

/** Sends requests with node's HTTP/2 client to a raw TCP server and returns the header blocks it received. */
async function captureClientBlocks(requests: readonly http2.OutgoingHttpHeaders[]): Promise<{ blocks: Buffer[]; port: number }> {
  const sockets = new Set<net.Socket>();
  let received = Buffer.alloc(0);
  let done: (blocks: Buffer[]) => void = () => {};
  const captured = new Promise<Buffer[]>((resolve) => (done = resolve));
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.write(Buffer.from('000000040000000000', 'hex')); // an empty SETTINGS frame
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const blocks = headerBlocks(received);
      if (blocks.length >= requests.length) done(blocks);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  const client = http2.connect(`http://127.0.0.1:${port}`);
  client.on('error', () => {});
  try {
    for (const headers of requests) client.request(headers, { endStream: true }).on('error', () => {});
    const timeout = setTimeout(() => done([]), 5_000);
    const blocks = await captured;
    clearTimeout(timeout);
    return { blocks, port };
  } finally {
    client.destroy();
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

test('interop: decodes what node:http2 (nghttp2, Huffman + dynamic table) sends', async () => {
  const printable = Array.from({ length: 0x7f - 0x20 }, (_, index) => String.fromCharCode(0x20 + index)).join('');
  const first = {
    ':method': 'POST', ':path': '/etcdserverpb.KV/Range', 'content-type': 'application/grpc', 'te': 'trailers',
    'grpc-timeout': '5S', 'x-a': `hello, world ${printable}`, 'x-latin1': 'caf\u00e9 \u00ff\u0080\u0001', 'x-long': 'z0'.repeat(150),
  };
  // The same again (now from the dynamic table) plus a new value.
  const second = { ...first, ':path': '/etcdserverpb.KV/Put', 'x-b': 'second request' };
  const { blocks, port } = await captureClientBlocks([first, second]);
  assert.equal(blocks.length, 2, 'two header blocks captured');
  const decoder = new HpackDecoder();
  const decoded = blocks.map((block) => decoder.decode(block));
  for (const [index, sent] of [first, second].entries()) {
    for (const [name, value] of Object.entries(sent)) assert.ok(decoded[index]!.some(([n, v]) => n === name && v === value), `request ${index + 1} has ${name}`);
    assert.ok(decoded[index]!.some(([name, value]) => name === ':authority' && value === `127.0.0.1:${port}`), `request ${index + 1} has :authority`);
  }
  // Huffman made the first block smaller than its text; the dynamic table made the second much smaller still.
  const textBytes = Object.entries(first).reduce((sum, [name, value]) => sum + name.length + value.length, 0);
  assert.ok(blocks[0]!.length < textBytes, `first block ${blocks[0]!.length} < ${textBytes}`);
  assert.ok(blocks[1]!.length * 4 < blocks[0]!.length, `second block ${blocks[1]!.length} vs first ${blocks[0]!.length}`);
});
