/**
 * Generates keel's protobuf codecs from the .proto files under proto/. Reads a proto3 subset (messages,
 * nested messages and enums, oneofs, repeated fields, services, field options) and writes one TypeScript
 * file per proto file into src/server/proto/_generated/: interfaces, size/write/read functions over
 * src/server/proto/wire.ts, and service descriptors.
 *
 *   node --import tsx scripts/generate-proto.ts          # write the files
 *   node --import tsx scripts/generate-proto.ts --check  # exit 1 if a committed file is stale
 *
 * The output is committed, so nothing is generated at install or test time; a test checks it is current.
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { emitFile } from './generate-proto-emit.ts';

/** The proto files to compile, in dependency order, and the TypeScript module each becomes. */
export const protoSources = [
  { proto: 'mvccpb/kv.proto', module: 'mvccpb.ts' },
  { proto: 'authpb/auth.proto', module: 'authpb.ts' },
  { proto: 'etcdserverpb/rpc.proto', module: 'etcdserverpb.ts' },
  { proto: 'grpc/health/v1/health.proto', module: 'health.ts' },
] as const;

export const outputDirectory = 'src/server/proto/_generated';

// ---------------------------------------------------------------------------------------------------
// Tokens
// ---------------------------------------------------------------------------------------------------

interface Token {
  readonly text: string;
  readonly kind: 'word' | 'number' | 'string' | 'symbol';
  readonly line: number;
  /** `//` comment lines directly above this token, joined. */
  readonly comment: string;
}

export class ProtoSyntaxError extends Error {
  readonly code = 'PROTO_SCHEMA_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'ProtoSyntaxError';
  }
}

function tokenize(source: string, fileName: string): Token[] {
  const tokens: Token[] = [];
  const pattern = /\s+|\/\/[^\n]*|\/\*[\s\S]*?\*\/|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|[A-Za-z_][A-Za-z0-9_.]*|-?[0-9][A-Za-z0-9_.]*|[{}()[\]<>;=,.:-]/y;
  let line = 1;
  let comment: string[] = [];
  let lastCommentLine = -1;
  while (pattern.lastIndex < source.length) {
    const start = pattern.lastIndex;
    const match = pattern.exec(source);
    if (match === null) throw new ProtoSyntaxError(`${fileName}:${line}: unexpected character ${JSON.stringify(source[start])}`);
    const text = match[0];
    if (text.startsWith('//')) {
      // A blank line between comment and declaration detaches the comment.
      if (lastCommentLine !== line - 1) comment = [];
      comment.push(text.slice(2).trim());
      lastCommentLine = line;
    } else if (!/^\s/.test(text) && !text.startsWith('/*')) {
      const attached = lastCommentLine === line - 1 ? comment.join(' ') : '';
      tokens.push({ text, kind: tokenKind(text), line, comment: attached });
      comment = [];
      lastCommentLine = -1;
    }
    line += text.split('\n').length - 1;
  }
  return tokens;
}

function tokenKind(text: string): Token['kind'] {
  if (/^[A-Za-z_]/.test(text)) return 'word';
  if (/^-?[0-9]/.test(text)) return 'number';
  if (text.startsWith('"') || text.startsWith("'")) return 'string';
  return 'symbol';
}

// ---------------------------------------------------------------------------------------------------
// Schema model
// ---------------------------------------------------------------------------------------------------

interface FieldNode {
  readonly name: string;
  readonly number: number;
  readonly typeName: string;
  readonly repeated: boolean;
  readonly jsType: 'JS_NORMAL' | 'JS_NUMBER' | 'JS_STRING' | undefined;
  readonly comment: string;
  oneof: OneofNode | undefined;
  resolved: ResolvedType | undefined;
}

interface OneofNode {
  readonly name: string;
  readonly fields: FieldNode[];
  readonly comment: string;
}

interface MessageNode {
  readonly kind: 'message';
  readonly name: string;
  readonly fullName: string;
  readonly tsName: string;
  readonly comment: string;
  readonly fields: FieldNode[];
  readonly oneofs: OneofNode[];
  readonly messages: MessageNode[];
  readonly enums: EnumNode[];
  readonly file: FileNode;
}

interface EnumNode {
  readonly kind: 'enum';
  readonly name: string;
  readonly fullName: string;
  readonly tsName: string;
  readonly comment: string;
  readonly values: { readonly name: string; readonly number: number; readonly comment: string }[];
  readonly file: FileNode;
}

interface MethodNode {
  readonly name: string;
  readonly inputName: string;
  readonly outputName: string;
  readonly clientStreaming: boolean;
  readonly serverStreaming: boolean;
  readonly comment: string;
  input: MessageNode | undefined;
  output: MessageNode | undefined;
}

interface ServiceNode {
  readonly name: string;
  readonly fullName: string;
  readonly comment: string;
  readonly methods: MethodNode[];
}

interface FileNode {
  readonly path: string;
  readonly module: string;
  packageName: string;
  readonly imports: string[];
  readonly messages: MessageNode[];
  readonly enums: EnumNode[];
  readonly services: ServiceNode[];
}

type ResolvedType = { readonly kind: 'scalar'; readonly scalar: ScalarName } | MessageNode | EnumNode;

const scalarNames = [
  'double', 'float', 'int32', 'int64', 'uint32', 'uint64', 'sint32', 'sint64',
  'fixed32', 'fixed64', 'sfixed32', 'sfixed64', 'bool', 'string', 'bytes',
] as const;
type ScalarName = (typeof scalarNames)[number];

function isScalarName(name: string): name is ScalarName {
  return (scalarNames as readonly string[]).includes(name);
}

// ---------------------------------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------------------------------

/** Bound on declarations in one file, so a malformed file cannot loop the parser forever. */
const declarationsMax = 10_000;

class Parser {
  readonly #tokens: Token[];
  readonly #fileName: string;
  #index = 0;

  constructor(tokens: Token[], fileName: string) {
    this.#tokens = tokens;
    this.#fileName = fileName;
  }

  parseFile(path: string, module: string): FileNode {
    const file: FileNode = { path, module, packageName: '', imports: [], messages: [], enums: [], services: [] };
    for (let count = 0; !this.done(); count++) {
      if (count > declarationsMax) throw this.error('too many declarations');
      const token = this.next();
      if (token.text === 'syntax') this.parseSyntax();
      else if (token.text === 'package') file.packageName = this.parseStatementValue();
      else if (token.text === 'import') file.imports.push(this.parseImport());
      else if (token.text === 'option') this.skipStatement();
      else if (token.text === 'message') file.messages.push(this.parseMessage(token, file, file.packageName, ''));
      else if (token.text === 'enum') file.enums.push(this.parseEnum(token, file, file.packageName, ''));
      else if (token.text === 'service') file.services.push(this.parseService(token, file.packageName));
      else if (token.text !== ';') throw this.error(`unexpected ${token.text}`, token);
    }
    return file;
  }

  private parseSyntax(): void {
    this.expect('=');
    const value = this.next();
    if (value.text.slice(1, -1) !== 'proto3') throw this.error('only proto3 is supported', value);
    this.expect(';');
  }

  private parseStatementValue(): string {
    const value = this.next().text;
    this.expect(';');
    return value;
  }

  private parseImport(): string {
    const value = this.next();
    if (value.kind !== 'string') throw this.error('import needs a quoted path', value);
    this.expect(';');
    return value.text.slice(1, -1);
  }

  private parseMessage(keyword: Token, file: FileNode, scope: string, tsPrefix: string): MessageNode {
    const name = this.word();
    const message: MessageNode = {
      kind: 'message', name, fullName: qualify(scope, name), tsName: nestedTsName(tsPrefix, name),
      comment: keyword.comment, fields: [], oneofs: [], messages: [], enums: [], file,
    };
    this.expect('{');
    for (let count = 0; !this.accept('}'); count++) {
      if (count > declarationsMax) throw this.error('too many declarations');
      this.parseMessageMember(message, file);
    }
    return message;
  }

  private parseMessageMember(message: MessageNode, file: FileNode): void {
    const token = this.peek();
    if (token.text === 'message') {
      this.next();
      message.messages.push(this.parseMessage(token, file, message.fullName, message.tsName));
    } else if (token.text === 'enum') {
      this.next();
      message.enums.push(this.parseEnum(token, file, message.fullName, message.tsName));
    } else if (token.text === 'oneof') {
      this.next();
      message.oneofs.push(this.parseOneof(token, message));
    } else if (token.text === 'option' || token.text === 'reserved') {
      this.skipStatement();
    } else if (token.text === ';') {
      this.next();
    } else {
      message.fields.push(this.parseField(undefined));
    }
  }

  private parseOneof(keyword: Token, message: MessageNode): OneofNode {
    const oneof: OneofNode = { name: this.word(), fields: [], comment: keyword.comment };
    this.expect('{');
    for (let count = 0; !this.accept('}'); count++) {
      if (count > declarationsMax) throw this.error('too many declarations');
      if (this.peek().text === 'option') {
        this.skipStatement();
        continue;
      }
      const field = this.parseField(oneof);
      if (field.repeated) throw this.error(`oneof member ${field.name} cannot be repeated`);
      oneof.fields.push(field);
      message.fields.push(field);
    }
    return oneof;
  }

  private parseField(oneof: OneofNode | undefined): FieldNode {
    const first = this.next();
    let repeated = false;
    let typeToken = first;
    if (first.text === 'repeated') {
      repeated = true;
      typeToken = this.next();
    } else if (first.text === 'optional' || first.text === 'required' || first.text === 'map') {
      throw this.error(`${first.text} fields are not supported`, first);
    }
    const name = this.word();
    this.expect('=');
    const numberToken = this.next();
    const number = Number(numberToken.text);
    if (!Number.isInteger(number) || number < 1 || number > 2 ** 29 - 1) throw this.error(`bad field number ${numberToken.text}`, numberToken);
    const jsType = this.accept('[') ? this.parseFieldOptions() : undefined;
    this.expect(';');
    return { name, number, typeName: typeToken.text, repeated, jsType, comment: first.comment, oneof, resolved: undefined };
  }

  /** Field options; only `jstype` matters to the codec. Returns its value, if given. */
  private parseFieldOptions(): FieldNode['jsType'] {
    let jsType: FieldNode['jsType'];
    for (let count = 0; ; count++) {
      if (count > declarationsMax) throw this.error('too many options');
      const option = this.next().text;
      this.expect('=');
      const value = this.next().text;
      if (option === 'jstype') {
        if (value !== 'JS_NORMAL' && value !== 'JS_NUMBER' && value !== 'JS_STRING') throw this.error(`bad jstype ${value}`);
        jsType = value;
      }
      if (this.accept(']')) return jsType;
      this.expect(',');
    }
  }

  private parseEnum(keyword: Token, file: FileNode, scope: string, tsPrefix: string): EnumNode {
    const name = this.word();
    const node: EnumNode = {
      kind: 'enum', name, fullName: qualify(scope, name), tsName: nestedTsName(tsPrefix, name),
      comment: keyword.comment, values: [], file,
    };
    this.expect('{');
    for (let count = 0; !this.accept('}'); count++) {
      if (count > declarationsMax) throw this.error('too many enum values');
      const valueToken = this.next();
      if (valueToken.text === 'option' || valueToken.text === 'reserved') {
        this.#index--;
        this.skipStatement();
        continue;
      }
      this.expect('=');
      const number = Number(this.next().text);
      if (!Number.isInteger(number)) throw this.error(`bad value for ${valueToken.text}`, valueToken);
      if (this.accept('[')) this.parseFieldOptions();
      this.expect(';');
      node.values.push({ name: valueToken.text, number, comment: valueToken.comment });
    }
    if (node.values[0]?.number !== 0) throw this.error(`enum ${name} must start with a zero value`, keyword);
    return node;
  }

  private parseService(keyword: Token, scope: string): ServiceNode {
    const name = this.word();
    const service: ServiceNode = { name, fullName: qualify(scope, name), comment: keyword.comment, methods: [] };
    this.expect('{');
    for (let count = 0; !this.accept('}'); count++) {
      if (count > declarationsMax) throw this.error('too many methods');
      const token = this.next();
      if (token.text === 'option') {
        this.#index--;
        this.skipStatement();
        continue;
      }
      if (token.text !== 'rpc') throw this.error(`unexpected ${token.text} in service`, token);
      service.methods.push(this.parseMethod(token));
    }
    return service;
  }

  private parseMethod(keyword: Token): MethodNode {
    const name = this.word();
    this.expect('(');
    const clientStreaming = this.accept('stream');
    const inputName = this.word();
    this.expect(')');
    this.expect('returns');
    this.expect('(');
    const serverStreaming = this.accept('stream');
    const outputName = this.word();
    this.expect(')');
    if (this.accept('{')) this.skipBlock();
    else this.expect(';');
    return { name, inputName, outputName, clientStreaming, serverStreaming, comment: keyword.comment, input: undefined, output: undefined };
  }

  private skipStatement(): void {
    for (let depth = 0; !this.done();) {
      const text = this.next().text;
      if (text === '{') depth++;
      else if (text === '}') depth--;
      if (depth === 0 && (text === ';' || text === '}')) return;
    }
    throw this.error('unterminated statement');
  }

  private skipBlock(): void {
    for (let depth = 1; !this.done();) {
      const text = this.next().text;
      if (text === '{') depth++;
      else if (text === '}' && --depth === 0) return;
    }
    throw this.error('unterminated block');
  }

  private word(): string {
    const token = this.next();
    if (token.kind !== 'word') throw this.error(`expected a name, found ${token.text}`, token);
    return token.text;
  }

  private expect(text: string): void {
    const token = this.next();
    if (token.text !== text) throw this.error(`expected ${text}, found ${token.text}`, token);
  }

  private accept(text: string): boolean {
    if (this.done() || this.peek().text !== text) return false;
    this.#index++;
    return true;
  }

  private peek(): Token {
    const token = this.#tokens[this.#index];
    if (token === undefined) throw this.error('unexpected end of file');
    return token;
  }

  private next(): Token {
    const token = this.peek();
    this.#index++;
    return token;
  }

  private done(): boolean {
    return this.#index >= this.#tokens.length;
  }

  private error(message: string, token?: Token): ProtoSyntaxError {
    const line = token?.line ?? this.#tokens[Math.min(this.#index, this.#tokens.length - 1)]?.line ?? 0;
    return new ProtoSyntaxError(`${this.#fileName}:${line}: ${message}`);
  }
}

function qualify(scope: string, name: string): string {
  return scope === '' ? name : `${scope}.${name}`;
}

/** `RangeRequest.SortOrder` becomes `RangeRequestSortOrder`; `Compare.CompareResult` stays `CompareResult`. */
function nestedTsName(prefix: string, name: string): string {
  return name.startsWith(prefix) ? name : prefix + name;
}

// ---------------------------------------------------------------------------------------------------
// Resolution
// ---------------------------------------------------------------------------------------------------

function collectTypes(files: FileNode[]): Map<string, MessageNode | EnumNode> {
  const types = new Map<string, MessageNode | EnumNode>();
  const tsNames = new Map<string, string>();
  const add = (node: MessageNode | EnumNode): void => {
    if (types.has(node.fullName)) throw new ProtoSyntaxError(`${node.fullName} is declared twice`);
    const clash = tsNames.get(node.tsName);
    if (clash !== undefined) throw new ProtoSyntaxError(`${node.fullName} and ${clash} both become TypeScript ${node.tsName}`);
    types.set(node.fullName, node);
    tsNames.set(node.tsName, node.fullName);
  };
  const visit = (message: MessageNode): void => {
    add(message);
    message.enums.forEach(add);
    message.messages.forEach(visit);
  };
  for (const file of files) {
    file.enums.forEach(add);
    file.messages.forEach(visit);
  }
  return types;
}

/** Protobuf scoping: try the innermost scope first, then each enclosing one. */
function resolveName(types: Map<string, MessageNode | EnumNode>, scope: string, name: string): MessageNode | EnumNode {
  if (name.startsWith('.')) {
    const found = types.get(name.slice(1));
    if (found !== undefined) return found;
  } else {
    const parts = scope === '' ? [] : scope.split('.');
    for (let length = parts.length; length >= 0; length--) {
      const found = types.get(qualify(parts.slice(0, length).join('.'), name));
      if (found !== undefined) return found;
    }
  }
  throw new ProtoSyntaxError(`unknown type ${name} in ${scope}`);
}

function resolveFile(file: FileNode, types: Map<string, MessageNode | EnumNode>): void {
  const visit = (message: MessageNode): void => {
    for (const field of message.fields) {
      field.resolved = isScalarName(field.typeName) ? { kind: 'scalar', scalar: field.typeName } : resolveName(types, message.fullName, field.typeName);
      if (field.jsType !== undefined && !is64Bit(field)) throw new ProtoSyntaxError(`${message.fullName}.${field.name}: jstype applies only to 64-bit integers`);
      if (field.jsType === 'JS_STRING') throw new ProtoSyntaxError(`${message.fullName}.${field.name}: JS_STRING is not supported`);
    }
    checkFieldNumbers(message);
    message.messages.forEach(visit);
  };
  file.messages.forEach(visit);
  for (const service of file.services) {
    for (const method of service.methods) {
      method.input = asMessage(resolveName(types, file.packageName, method.inputName), method.inputName);
      method.output = asMessage(resolveName(types, file.packageName, method.outputName), method.outputName);
    }
  }
}

function checkFieldNumbers(message: MessageNode): void {
  const numbers = new Set<number>();
  const names = new Set<string>();
  for (const field of message.fields) {
    if (numbers.has(field.number)) throw new ProtoSyntaxError(`${message.fullName}: field number ${field.number} used twice`);
    if (names.has(jsonName(field.name))) throw new ProtoSyntaxError(`${message.fullName}: field name ${field.name} used twice`);
    numbers.add(field.number);
    names.add(jsonName(field.name));
  }
}

function asMessage(node: MessageNode | EnumNode, name: string): MessageNode {
  if (node.kind !== 'message') throw new ProtoSyntaxError(`${name} is an enum, not a message`);
  return node;
}

function is64Bit(field: FieldNode): boolean {
  return ['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64'].includes(field.typeName);
}

/** protoc's json_name: drop underscores, upper-case the letter after each; leave other letters alone. */
function jsonName(name: string): string {
  return name.replace(/_+([a-zA-Z0-9])/g, (_match, letter: string) => letter.toUpperCase());
}

export { tokenize, Parser, jsonName, nestedTsName, isScalarName };
export type { FileNode, MessageNode, EnumNode, FieldNode, OneofNode, ServiceNode, MethodNode, ResolvedType, ScalarName };

// ---------------------------------------------------------------------------------------------------
// Entry points
// ---------------------------------------------------------------------------------------------------

/** Parses and resolves every proto file under `protoRoot`. */
export function loadSchema(protoRoot: string): FileNode[] {
  const files = protoSources.map(({ proto, module }) => {
    const source = readFileSync(join(protoRoot, proto), 'utf8');
    return new Parser(tokenize(source, proto), proto).parseFile(proto, module);
  });
  const types = collectTypes(files);
  for (const file of files) resolveFile(file, types);
  return files;
}

/** Generates every module; returns output path (relative to the repository) → content. */
export function generate(repositoryRoot: string): Map<string, string> {
  const files = loadSchema(join(repositoryRoot, 'proto'));
  const outputs = new Map<string, string>();
  for (const file of files) outputs.set(join(outputDirectory, file.module), emitFile(file, files));
  return outputs;
}

function main(): void {
  const repositoryRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const check = process.argv.includes('--check');
  const outputs = generate(repositoryRoot);
  let stale = 0;
  for (const [path, content] of outputs) {
    const target = join(repositoryRoot, path);
    let current: string | undefined;
    try {
      current = readFileSync(target, 'utf8');
    } catch {
      current = undefined;
    }
    if (current === content) continue;
    stale++;
    if (check) {
      console.error(`${path} is stale; run node --import tsx scripts/generate-proto.ts`);
    } else {
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, content);
      console.log(`wrote ${path}`);
    }
  }
  if (check && stale > 0) process.exitCode = 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
