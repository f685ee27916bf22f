/**
 * The emitting half of scripts/generate-proto.ts: turns a resolved schema into TypeScript. Every message
 * gets a decoded interface, an init interface, `create`, `encode` and `decode`, plus the private size,
 * write and read passes (prefixed `_`, exported only so other generated modules can nest the message).
 *
 * The size and write passes must visit fields in the same order under the same conditions: the write pass
 * consumes the nested sizes the size pass recorded (see SizeCache in src/server/proto/wire.ts). Both are
 * emitted from one field plan below so they cannot drift apart.
 */
import type { EnumNode, FieldNode, FileNode, MessageNode, MethodNode, OneofNode, ScalarName, ServiceNode } from './generate-proto.ts';
import { jsonName } from './generate-proto.ts';

interface ScalarCode {
  readonly tsType: string;
  readonly defaultValue: string;
  readonly wireType: number;
  /** Expression reading one value. */
  readonly read: string;
  /** Expression for the payload size of `value` (without the tag). */
  size(value: string): string;
  /** Statement writing `value` (without the tag). */
  write(value: string): string;
  /** Name of the wire.ts function that validates a value before encoding, if any. */
  readonly check: string | undefined;
  /** Expression that is true when `value` is the proto3 default and so is not written. */
  isDefault(value: string): string;
}

const varint = 0;
const fixed64 = 1;
const lengthDelimited = 2;
const fixed32 = 5;

function scalarCode(scalar: ScalarName, asBigInt: boolean): ScalarCode {
  const numberDefault = (value: string): string => `${value} === 0`;
  const floatDefault = (value: string): string => `${value} === 0 && !Object.is(${value}, -0)`;
  const bigIntDefault = (value: string): string => `${value} === 0n`;
  const fixedSize = (bytes: number) => (): string => String(bytes);
  const base = { tsType: 'number', defaultValue: '0', isDefault: numberDefault, check: undefined };
  const big = { tsType: 'bigint', defaultValue: '0n', isDefault: bigIntDefault };
  switch (scalar) {
    case 'double':
      return { ...base, isDefault: floatDefault, wireType: fixed64, read: 'reader.double()', size: fixedSize(8), write: (value) => `writer.double(${value});` };
    case 'float':
      return { ...base, isDefault: floatDefault, wireType: fixed32, read: 'reader.float()', size: fixedSize(4), write: (value) => `writer.float(${value});` };
    case 'int32':
      return { ...base, wireType: varint, read: 'reader.int32()', size: (value) => `varintSizeInt32(${value})`, write: (value) => `writer.int32(${value});`, check: 'checkInt32' };
    case 'uint32':
      return { ...base, wireType: varint, read: 'reader.uint32()', size: (value) => `varintSize32(${value})`, write: (value) => `writer.varint32(${value});`, check: 'checkUint32' };
    case 'sint32':
      return { ...base, wireType: varint, read: 'reader.sint32()', size: (value) => `varintSize32(zigzag32(${value}))`, write: (value) => `writer.varint32(zigzag32(${value}));`, check: 'checkInt32' };
    case 'fixed32':
      return { ...base, wireType: fixed32, read: 'reader.fixed32()', size: fixedSize(4), write: (value) => `writer.fixed32(${value});`, check: 'checkUint32' };
    case 'sfixed32':
      return { ...base, wireType: fixed32, read: 'reader.sfixed32()', size: fixedSize(4), write: (value) => `writer.fixed32(${value});`, check: 'checkInt32' };
    case 'bool':
      return { tsType: 'boolean', defaultValue: 'false', isDefault: (value) => `${value} === false`, check: undefined, wireType: varint, read: 'reader.bool()', size: fixedSize(1), write: (value) => `writer.bool(${value});` };
    case 'string':
      return { tsType: 'string', defaultValue: "''", isDefault: (value) => `${value} === ''`, check: undefined, wireType: lengthDelimited, read: 'reader.string()', size: () => 'unused', write: () => 'unused' };
    case 'bytes':
      return { tsType: 'Uint8Array', defaultValue: 'emptyBytes', isDefault: (value) => `${value}.length === 0`, check: undefined, wireType: lengthDelimited, read: 'reader.bytesField()', size: (value) => `lengthDelimitedSize(${value}.length)`, write: (value) => `writer.bytesField(${value});` };
    default:
      return asBigInt ? scalarCode64BigInt(scalar, big) : scalarCode64Number(scalar, base);
  }
}

function scalarCode64Number(scalar: ScalarName, base: Pick<ScalarCode, 'tsType' | 'defaultValue' | 'isDefault'>): ScalarCode {
  const signed = scalar !== 'uint64' && scalar !== 'fixed64';
  const check = signed ? 'checkInt64Number' : 'checkUint64Number';
  switch (scalar) {
    case 'int64':
      return { ...base, check, wireType: varint, read: 'reader.int64Number()', size: (value) => `varintSizeNumber(${value})`, write: (value) => `writer.varintNumber(${value});` };
    case 'uint64':
      return { ...base, check, wireType: varint, read: 'reader.uint64Number()', size: (value) => `varintSizeNumber(${value})`, write: (value) => `writer.varintNumber(${value});` };
    case 'sint64':
      return { ...base, check, wireType: varint, read: 'reader.sint64Number()', size: (value) => `varintSizeSint64Number(${value})`, write: (value) => `writer.sint64Number(${value});` };
    case 'fixed64':
      return { ...base, check, wireType: fixed64, read: 'reader.fixed64Number()', size: () => '8', write: (value) => `writer.fixed64Number(${value});` };
    default:
      return { ...base, check, wireType: fixed64, read: 'reader.sfixed64Number()', size: () => '8', write: (value) => `writer.fixed64Number(${value});` };
  }
}

function scalarCode64BigInt(scalar: ScalarName, base: Pick<ScalarCode, 'tsType' | 'defaultValue' | 'isDefault'>): ScalarCode {
  const signed = scalar !== 'uint64' && scalar !== 'fixed64';
  const check = signed ? 'checkInt64BigInt' : 'checkUint64BigInt';
  switch (scalar) {
    case 'int64':
      return { ...base, check, wireType: varint, read: 'reader.int64BigInt()', size: (value) => `varintSizeBigInt(${value})`, write: (value) => `writer.varintBigInt(${value});` };
    case 'uint64':
      return { ...base, check, wireType: varint, read: 'reader.uint64BigInt()', size: (value) => `varintSizeBigInt(${value})`, write: (value) => `writer.varintBigInt(${value});` };
    case 'sint64':
      return { ...base, check, wireType: varint, read: 'reader.sint64BigInt()', size: (value) => `varintSizeBigInt(zigzagBigInt(${value}))`, write: (value) => `writer.varintBigInt(zigzagBigInt(${value}));` };
    case 'fixed64':
      return { ...base, check, wireType: fixed64, read: 'reader.fixed64BigInt()', size: () => '8', write: (value) => `writer.fixed64BigInt(${value});` };
    default:
      return { ...base, check, wireType: fixed64, read: 'reader.sfixed64BigInt()', size: () => '8', write: (value) => `writer.fixed64BigInt(${value});` };
  }
}

const enumCode: ScalarCode = {
  tsType: 'number', defaultValue: '0', isDefault: (value) => `${value} === 0`, check: 'checkInt32',
  wireType: varint, read: 'reader.int32()', size: (value) => `varintSizeInt32(${value})`, write: (value) => `writer.int32(${value});`,
};

/** Wire.ts names a generated file may import; the emitter records which ones it used. */
const wireHelpers = [
  'Reader', 'SizeCache', 'Writer', 'checkInt32', 'checkInt64BigInt', 'checkInt64Number', 'checkUint32', 'checkUint64BigInt', 'checkUint64Number',
  'decodeWith', 'emptyBytes', 'encodeWith', 'lengthDelimitedSize', 'stringByteLength', 'varintSize32',
  'varintSizeBigInt', 'varintSizeInt32', 'varintSizeNumber', 'varintSizeSint64Number', 'zigzag32', 'zigzagBigInt',
];


// ---------------------------------------------------------------------------------------------------
// Field plans
// ---------------------------------------------------------------------------------------------------

/** Everything the emitters need to know about one field, computed once. */
interface FieldPlan {
  readonly field: FieldNode;
  /** Where it lives on the message object: the oneof's property for oneof members. */
  readonly property: string;
  /** The oneof case name (the member's JSON name), for oneof members. */
  readonly caseName: string;
  /** `Message.field`, used in encoder error messages. */
  readonly label: string;
  readonly kind: 'scalar' | 'string' | 'message';
  readonly code: ScalarCode;
  readonly message: MessageNode | undefined;
  /** The tag for the field's natural wire type (the packed tag for packed fields). */
  readonly tag: number;
  /** The tag for one unpacked element of a packed field. */
  readonly elementTag: number;
  readonly packed: boolean;
}

function planField(owner: MessageNode, field: FieldNode): FieldPlan {
  const resolved = field.resolved;
  if (resolved === undefined) throw new Error(`${owner.fullName}.${field.name} is unresolved`);
  const code = resolved.kind === 'scalar'
    ? scalarCode(resolved.scalar, field.jsType !== 'JS_NUMBER')
    : resolved.kind === 'enum' ? enumCode : scalarCode('bytes', false);
  const kind = resolved.kind === 'message' ? 'message' : resolved.kind === 'scalar' && resolved.scalar === 'string' ? 'string' : 'scalar';
  const packed = field.repeated && code.wireType !== lengthDelimited && kind !== 'message';
  const wireType = kind === 'message' || packed ? lengthDelimited : code.wireType;
  return {
    field,
    property: field.oneof !== undefined ? jsonName(field.oneof.name) : jsonName(field.name),
    caseName: jsonName(field.name),
    label: `${owner.fullName}.${field.name}`,
    kind,
    code,
    message: resolved.kind === 'message' ? resolved : undefined,
    tag: field.number * 8 + wireType,
    elementTag: field.number * 8 + code.wireType,
    packed,
  };
}

function tagSize(tag: number): number {
  let size = 1;
  for (let rest = Math.floor(tag / 128); rest > 0; rest = Math.floor(rest / 128)) size++;
  return size;
}

// ---------------------------------------------------------------------------------------------------
// Emit context: imports and naming
// ---------------------------------------------------------------------------------------------------

class EmitContext {
  readonly file: FileNode;
  readonly wireImports = new Set<string>();
  /** module → names imported from another generated module. */
  readonly moduleImports = new Map<string, Set<string>>();
  usesMethodDefinition = false;

  constructor(file: FileNode) {
    this.file = file;
  }

  wire(name: string): string {
    if (!wireHelpers.includes(name)) throw new Error(`${name} is not a wire helper`);
    this.wireImports.add(name);
    return name;
  }

  /** The TypeScript name of a message or enum, importing it when it lives in another module. */
  name(node: MessageNode | EnumNode, prefix = '', suffix = ''): string {
    const name = `${prefix}${node.tsName}${suffix}`;
    if (node.file !== this.file) {
      const names = this.moduleImports.get(node.file.module) ?? new Set<string>();
      names.add(name);
      this.moduleImports.set(node.file.module, names);
    }
    return name;
  }

  imports(): string {
    const lines: string[] = [];
    const valueImports = [...this.wireImports].sort();
    const typeImports = ['Reader', 'SizeCache', 'Writer'].filter((name) => this.wireImports.has(name));
    const helpers = valueImports.filter((name) => !typeImports.includes(name));
    if (typeImports.length > 0) lines.push(`import type { ${typeImports.join(', ')} } from '../wire.ts';`);
    if (helpers.length > 0) lines.push(`import { ${helpers.join(', ')} } from '../wire.ts';`);
    if (this.usesMethodDefinition) lines.push(`import type { MethodDefinition } from '../service.ts';`);
    for (const [module, names] of [...this.moduleImports].sort(([left], [right]) => left.localeCompare(right))) {
      const sorted = [...names].sort();
      const types = sorted.filter((name) => !name.startsWith('_') && !name.startsWith('create'));
      const values = sorted.filter((name) => name.startsWith('_') || name.startsWith('create'));
      if (types.length > 0) lines.push(`import type { ${types.join(', ')} } from './${module}';`);
      if (values.length > 0) lines.push(`import { ${values.join(', ')} } from './${module}';`);
    }
    return lines.join('\n');
  }
}

function docComment(text: string, indent = ''): string {
  if (text === '') return '';
  return `${indent}/** ${text.replaceAll('*/', '*\\/')} */\n`;
}

// ---------------------------------------------------------------------------------------------------
// File
// ---------------------------------------------------------------------------------------------------

export function emitFile(file: FileNode, _allFiles: readonly FileNode[]): string {
  const context = new EmitContext(file);
  const sections: string[] = [];
  for (const node of file.enums) sections.push(emitEnum(node));
  const visit = (message: MessageNode): void => {
    for (const node of message.enums) sections.push(emitEnum(node));
    sections.push(emitMessage(context, message));
    message.messages.forEach(visit);
  };
  file.messages.forEach(visit);
  for (const service of file.services) sections.push(emitService(context, service));
  const lines = [
    `// Generated by scripts/generate-proto.ts from proto/${file.path}. Do not edit: change the .proto file`,
    '// and run `node --import tsx scripts/generate-proto.ts`.',
  ];
  if (hasEmptyMessage(file.messages)) {
    lines.push('/* eslint-disable @typescript-eslint/no-empty-object-type -- empty proto messages are empty interfaces */');
  }
  const header = lines.join('\n');
  const imports = context.imports();
  return `${header}\n${imports}${imports === '' ? '' : '\n'}\n${sections.join('\n')}`;
}

function hasEmptyMessage(messages: readonly MessageNode[]): boolean {
  return messages.some((message) => message.fields.length === 0 || hasEmptyMessage(message.messages));
}

function emitEnum(node: EnumNode): string {
  const values = node.values.map((value) => `${docComment(value.comment, '  ')}  ${value.name} = ${value.number},`).join('\n');
  const comment = `\`${node.fullName}\`.${node.comment === '' ? '' : ` ${node.comment}`} Open: decoding keeps numbers not listed here.`;
  return `${docComment(comment)}export enum ${node.tsName} {\n${values}\n}\n`;
}

// ---------------------------------------------------------------------------------------------------
// Message
// ---------------------------------------------------------------------------------------------------

function emitMessage(context: EmitContext, message: MessageNode): string {
  const plans = message.fields.map((field) => planField(message, field));
  return [
    emitInterface(context, message, plans, false),
    emitInterface(context, message, plans, true),
    emitCreate(context, message, plans),
    emitEncodeDecode(context, message),
    emitSize(context, message, plans),
    emitWrite(context, message, plans),
    emitRead(context, message, plans),
  ].join('\n');
}

function emitInterface(context: EmitContext, message: MessageNode, plans: FieldPlan[], init: boolean): string {
  const lines: string[] = [];
  const seenOneofs = new Set<OneofNode>();
  for (const plan of plans) {
    const oneof = plan.field.oneof;
    if (oneof !== undefined) {
      if (seenOneofs.has(oneof)) continue;
      seenOneofs.add(oneof);
      const members = plans.filter((member) => member.field.oneof === oneof);
      const union = members.map((member) => `{ case: '${member.caseName}'; value: ${elementType(context, member, init)} }`).join(' | ');
      lines.push(`${docComment(oneof.comment, '  ')}  ${plan.property}${init ? '?' : ''}: ${union}${init ? '' : ' | undefined'};`);
      continue;
    }
    lines.push(`${docComment(plan.field.comment, '  ')}  ${plan.property}${init ? '?' : ''}: ${fieldType(context, plan, init)};`);
  }
  const name = init ? `${message.tsName}Init` : message.tsName;
  const what = init
    ? `What {@link encode${message.tsName}} accepts: \`${message.fullName}\` with every field optional.`
    : `\`${message.fullName}\`, decoded: every field present.${message.comment === '' ? '' : ` ${message.comment}`}`;
  return `${docComment(what)}export interface ${name} {\n${lines.join('\n')}${lines.length > 0 ? '\n' : ''}}\n`;
}

function elementType(context: EmitContext, plan: FieldPlan, init: boolean): string {
  if (plan.message !== undefined) return context.name(plan.message, '', init ? 'Init' : '');
  const resolved = plan.field.resolved;
  if (resolved !== undefined && resolved.kind === 'enum') return context.name(resolved);
  return plan.code.tsType;
}

function fieldType(context: EmitContext, plan: FieldPlan, init: boolean): string {
  const element = elementType(context, plan, init);
  if (plan.field.repeated) return init ? `readonly ${element}[]` : `${element}[]`;
  if (plan.message !== undefined && !init) return `${element} | undefined`;
  return element;
}

function emitCreate(context: EmitContext, message: MessageNode, plans: FieldPlan[]): string {
  const entries = new Map<string, string>();
  for (const plan of plans) {
    if (plan.field.oneof !== undefined || (plan.message !== undefined && !plan.field.repeated)) entries.set(plan.property, 'undefined');
    else if (plan.field.repeated) entries.set(plan.property, '[]');
    else entries.set(plan.property, plan.code.defaultValue === 'emptyBytes' ? context.wire('emptyBytes') : plan.code.defaultValue);
  }
  const body = [...entries].map(([property, value]) => `${property}: ${value}`).join(', ');
  return `/** A \`${message.fullName}\` with every field at its default. */\nexport function create${message.tsName}(): ${message.tsName} {\n  return { ${body} };\n}\n`;
}

function emitEncodeDecode(context: EmitContext, message: MessageNode): string {
  const name = message.tsName;
  context.wire('encodeWith');
  context.wire('decodeWith');
  context.wire('Writer');
  context.wire('Reader');
  context.wire('SizeCache');
  return [
    `/** Encodes a \`${message.fullName}\`; the first \`reservedBytes\` bytes of the result are left for a frame header. */`,
    `export function encode${name}(message: ${name}Init, reservedBytes = 0): Uint8Array {`,
    `  return encodeWith(message, reservedBytes, _size${name}, _write${name});`,
    '}',
    '',
    `/** Decodes a \`${message.fullName}\`. \`bytes\` fields alias \`bytes\`; throws ProtoError on malformed input. */`,
    `export function decode${name}(bytes: Uint8Array): ${name} {`,
    `  return decodeWith(bytes, _read${name});`,
    '}',
    '',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------------
// Size and write passes (emitted side by side from the same plans)
// ---------------------------------------------------------------------------------------------------

function emitSize(context: EmitContext, message: MessageNode, plans: FieldPlan[]): string {
  if (plans.length === 0) return `export function _size${message.tsName}(_message: ${message.tsName}Init, _sizes: SizeCache): number {\n  return 0;\n}\n`;
  const body = emitFieldsInOrder(plans, (plan, value, present) => sizeStatement(context, plan, value, present));
  // The cache is needed only for nested messages, strings and packed fields.
  const usesSizes = plans.some((plan) => plan.kind !== 'scalar' || plan.packed);
  return `export function _size${message.tsName}(message: ${message.tsName}Init, ${usesSizes ? '' : '_'}sizes: SizeCache): number {\n  let size = 0;\n${body}  return size;\n}\n`;
}

function emitWrite(context: EmitContext, message: MessageNode, plans: FieldPlan[]): string {
  const body = emitFieldsInOrder(plans, (plan, value, present) => writeStatement(context, plan, value, present));
  const parameters = plans.length === 0 ? `_message: ${message.tsName}Init, _writer: Writer` : `message: ${message.tsName}Init, writer: Writer`;
  return `export function _write${message.tsName}(${parameters}): void {\n${body}}\n`;
}

/**
 * Walks fields in declaration order (oneofs at their first member) and asks `statement` for the code of
 * each. `present` says whether the field has explicit presence (oneof members are written even when zero).
 */
function emitFieldsInOrder(plans: FieldPlan[], statement: (plan: FieldPlan, value: string, present: boolean) => string): string {
  let code = '';
  const seenOneofs = new Set<OneofNode>();
  for (const plan of plans) {
    const oneof = plan.field.oneof;
    if (oneof === undefined) {
      const value = `value${plan.field.number}`;
      code += `  const ${value} = message.${plan.property};\n${indent(statement(plan, value, false), 1)}`;
      continue;
    }
    if (seenOneofs.has(oneof)) continue;
    seenOneofs.add(oneof);
    const local = `oneof${plan.field.number}`;
    const cases = plans.filter((member) => member.field.oneof === oneof)
      .map((member) => `      case '${member.caseName}': {\n${indent(statement(member, `${local}.value`, true), 4)}        break;\n      }\n`).join('');
    code += `  const ${local} = message.${plan.property};\n  if (${local} !== undefined) {\n    switch (${local}.case) {\n${cases}    }\n  }\n`;
  }
  return code;
}

function indent(code: string, depth: number): string {
  const prefix = '  '.repeat(depth);
  return code.split('\n').map((line) => (line === '' ? line : prefix + line)).join('\n');
}

function checked(context: EmitContext, plan: FieldPlan, value: string): string {
  const check = plan.code.check;
  return check === undefined ? value : `${context.wire(check)}(${value}, '${plan.label}')`;
}

function sizeStatement(context: EmitContext, plan: FieldPlan, value: string, present: boolean): string {
  const tagBytes = tagSize(plan.tag);
  if (plan.field.repeated) return sizeRepeated(context, plan, value);
  const guard = present ? '' : `${value} !== undefined && !(${plan.code.isDefault(value)})`;
  const wrap = (body: string): string => (present ? `${body}\n` : `if (${guard}) {\n  ${body.replaceAll('\n', '\n  ')}\n}\n`);
  if (plan.kind === 'message') {
    const size = context.name(plan.message!, '_size');
    const body = `const slot = sizes.reserve();\nconst length = ${size}(${value}, sizes);\nsizes.fill(slot, length);\nsize += ${tagBytes} + ${context.wire('lengthDelimitedSize')}(length);`;
    return present ? `${body}\n` : `if (${value} !== undefined) {\n  ${body.replaceAll('\n', '\n  ')}\n}\n`;
  }
  if (plan.kind === 'string') {
    return wrap(`const length = ${context.wire('stringByteLength')}(${value});\nsizes.fill(sizes.reserve(), length);\nsize += ${tagBytes} + ${context.wire('lengthDelimitedSize')}(length);`);
  }
  return wrap(`size += ${tagBytes} + ${sizeExpression(context, plan, checked(context, plan, value))};`);
}

function sizeExpression(context: EmitContext, plan: FieldPlan, value: string): string {
  const expression = plan.code.size(value);
  for (const helper of wireHelpers) if (expression.includes(`${helper}(`)) context.wire(helper);
  return expression;
}

function sizeRepeated(context: EmitContext, plan: FieldPlan, value: string): string {
  const tagBytes = tagSize(plan.tag);
  if (plan.packed) {
    const element = sizeExpression(context, plan, checked(context, plan, 'item'));
    return `if (${value} !== undefined && ${value}.length !== 0) {\n  let payload = 0;\n  for (const item of ${value}) payload += ${element};\n  sizes.fill(sizes.reserve(), payload);\n  size += ${tagBytes} + ${context.wire('lengthDelimitedSize')}(payload);\n}\n`;
  }
  let body: string;
  if (plan.kind === 'message') {
    body = `const slot = sizes.reserve();\n    const length = ${context.name(plan.message!, '_size')}(item, sizes);\n    sizes.fill(slot, length);\n    size += ${tagBytes} + ${context.wire('lengthDelimitedSize')}(length);`;
  } else if (plan.kind === 'string') {
    body = `const length = ${context.wire('stringByteLength')}(item);\n    sizes.fill(sizes.reserve(), length);\n    size += ${tagBytes} + ${context.wire('lengthDelimitedSize')}(length);`;
  } else {
    body = `size += ${tagBytes} + ${sizeExpression(context, plan, 'item')};`;
  }
  return `if (${value} !== undefined) {\n  for (const item of ${value}) {\n    ${body}\n  }\n}\n`;
}

function writeStatement(context: EmitContext, plan: FieldPlan, value: string, present: boolean): string {
  if (plan.field.repeated) return writeRepeated(context, plan, value);
  const body = writeOne(context, plan, value);
  if (present) return `${body}\n`;
  const guard = plan.kind === 'message' ? `${value} !== undefined` : `${value} !== undefined && !(${plan.code.isDefault(value)})`;
  return `if (${guard}) {\n  ${body.replaceAll('\n', '\n  ')}\n}\n`;
}

function writeOne(context: EmitContext, plan: FieldPlan, value: string): string {
  if (plan.kind === 'message') {
    return `writer.varint32(${plan.tag});\nwriter.varint32(writer.sizes.next());\n${context.name(plan.message!, '_write')}(${value}, writer);`;
  }
  if (plan.kind === 'string') return `writer.varint32(${plan.tag});\nwriter.string(${value}, writer.sizes.next());`;
  return `writer.varint32(${plan.elementTag});\n${plan.code.write(value)}`;
}

function writeRepeated(context: EmitContext, plan: FieldPlan, value: string): string {
  if (plan.packed) {
    return `if (${value} !== undefined && ${value}.length !== 0) {\n  writer.varint32(${plan.tag});\n  writer.varint32(writer.sizes.next());\n  for (const item of ${value}) ${plan.code.write('item')}\n}\n`;
  }
  return `if (${value} !== undefined) {\n  for (const item of ${value}) {\n    ${writeOne(context, plan, 'item').replaceAll('\n', '\n    ')}\n  }\n}\n`;
}

// ---------------------------------------------------------------------------------------------------
// Read pass
// ---------------------------------------------------------------------------------------------------

function emitRead(context: EmitContext, message: MessageNode, plans: FieldPlan[]): string {
  const name = message.tsName;
  const signature = `export function _read${name}(reader: Reader, target: ${name} | undefined): ${name} {\n  const message = target ?? create${name}();\n`;
  if (plans.length === 0) {
    return `${signature}  while (reader.position < reader.end) reader.skip(reader.tag());\n  return message;\n}\n`;
  }
  const cases = plans.map((plan) => readCases(context, plan)).join('');
  const known = plans.map((plan) => `case ${plan.field.number}:`).join(' ');
  return `${signature}  while (reader.position < reader.end) {\n    const tag = reader.tag();\n    switch (tag) {\n${cases}` +
    `      default:\n        // A known field with a wire type it cannot have is corrupt, not unknown.\n` +
    `        switch (tag >>> 3) {\n          ${known}\n            throw reader.wireTypeMismatch(tag);\n        }\n        reader.skip(tag);\n    }\n  }\n  return message;\n}\n`;
}

function readCases(context: EmitContext, plan: FieldPlan): string {
  const property = `message.${plan.property}`;
  if (plan.kind === 'message') {
    const read = context.name(plan.message!, '_read');
    let assignment: string;
    if (plan.field.repeated) assignment = `${property}.push(${read}(reader, undefined));`;
    else if (plan.field.oneof !== undefined) {
      assignment = `const previous = ${property};\n        ${property} = { case: '${plan.caseName}', value: ${read}(reader, previous !== undefined && previous.case === '${plan.caseName}' ? previous.value : undefined) };`;
    } else assignment = `${property} = ${read}(reader, ${property});`;
    return `      case ${plan.tag}: {\n        const outerEnd = reader.enter(reader.length());\n        ${assignment}\n        reader.leave(outerEnd);\n        break;\n      }\n`;
  }
  const read = plan.code.read;
  if (plan.field.oneof !== undefined) return `      case ${plan.tag}:\n        ${property} = { case: '${plan.caseName}', value: ${read} };\n        break;\n`;
  if (!plan.field.repeated) return `      case ${plan.tag}:\n        ${property} = ${read};\n        break;\n`;
  if (!plan.packed) return `      case ${plan.tag}:\n        ${property}.push(${read});\n        break;\n`;
  // Packed fields must also accept the unpacked form (protobuf parsers accept both).
  return `      case ${plan.tag}: {\n        const outerEnd = reader.enter(reader.length());\n        while (reader.position < reader.end) ${property}.push(${read});\n        reader.leave(outerEnd);\n        break;\n      }\n` +
    `      case ${plan.elementTag}:\n        ${property}.push(${read});\n        break;\n`;
}

// ---------------------------------------------------------------------------------------------------
// Services
// ---------------------------------------------------------------------------------------------------

function methodKind(method: MethodNode): string {
  if (method.clientStreaming && method.serverStreaming) return 'bidirectional-stream';
  if (method.clientStreaming) return 'client-stream';
  if (method.serverStreaming) return 'server-stream';
  return 'unary';
}

function emitService(context: EmitContext, service: ServiceNode): string {
  context.usesMethodDefinition = true;
  const constant = `${service.name}Service`;
  const types: string[] = [];
  const values: string[] = [];
  for (const method of service.methods) {
    const input = method.input!;
    const output = method.output!;
    const request = context.name(input);
    const response = context.name(output);
    const kind = methodKind(method);
    types.push(`${docComment(method.comment, '    ')}    readonly ${method.name}: MethodDefinition<${request}, ${response}, ${context.name(input, '', 'Init')}, ${context.name(output, '', 'Init')}, '${kind}'>;`);
    values.push([
      `    ${method.name}: {`,
      `      name: '${method.name}',`,
      `      path: '/${service.fullName}/${method.name}',`,
      `      kind: '${kind}',`,
      `      encodeRequest: ${encoderName(context, input)},`,
      `      decodeRequest: ${decoderName(context, input)},`,
      `      encodeResponse: ${encoderName(context, output)},`,
      `      decodeResponse: ${decoderName(context, output)},`,
      '    },',
    ].join('\n'));
  }
  const comment = `The \`${service.fullName}\` service: its name and its methods' paths, kinds and codecs.${service.comment === '' ? '' : ` ${service.comment}`}`;
  return `${docComment(comment)}export const ${constant}: {\n  readonly name: '${service.fullName}';\n  readonly methods: {\n${types.join('\n')}\n  };\n} = {\n  name: '${service.fullName}',\n  methods: {\n${values.join('\n')}\n  },\n};\n`;
}

function encoderName(context: EmitContext, message: MessageNode): string {
  if (message.file !== context.file) return context.name(message, 'encode');
  return `encode${message.tsName}`;
}

function decoderName(context: EmitContext, message: MessageNode): string {
  if (message.file !== context.file) return context.name(message, 'decode');
  return `decode${message.tsName}`;
}
