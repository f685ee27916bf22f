/**
 * Executes a parsed template (see _template-parse.ts) with Go's text/template semantics for the subset:
 * pipelines pass their value as the last argument of the next command, `and`/`or` short-circuit, `if`,
 * `with` and `range` use Go's truth, variables are scoped to their block, ranges over maps go in key
 * order, and missing map keys give the zero value (Prometheus sets `missingkey=zero`).
 */
import type { FunctionContext } from './_template-functions.ts';
import { templateFunctions } from './_template-functions.ts';
import type { BranchNode, Command, Operand, Pipeline, TemplateNode } from './_template-parse.ts';
import type { TemplateValue } from './_template-values.ts';
import { goTypeName, isTrue, printActionValue, TemplateStruct } from './_template-values.ts';

/** Longest text one expansion may produce, in UTF-16 units. */
export const templateOutputCharactersMax = 1024 * 1024;
/** Most loop iterations in one expansion (over every `range`). */
export const templateIterationsMax = 100_000;

/** A template that failed while running; the message is Go's shape. */
export class TemplateExecutionError extends Error {
  readonly code = 'RULE_TEMPLATE_EXECUTION';

  constructor(message: string) {
    super(message);
    this.name = 'TemplateExecutionError';
  }
}

/** An error inside a function or field lookup, before the executor adds the template position. */
class CallError extends Error {}

interface Variable {
  readonly name: string;
  value: TemplateValue;
}

const noFinal = Symbol('no final value');
type Final = TemplateValue | typeof noFinal;

export interface ExecutionOptions {
  readonly name: string;
  /** The template text the nodes came from, for positions in errors. */
  readonly text: string;
  readonly functions: FunctionContext;
}

/** Runs `nodes` with `data` as dot and `$`, and the given variables predeclared. */
export function executeTemplate(nodes: readonly TemplateNode[], data: TemplateValue, variables: ReadonlyMap<string, TemplateValue>, options: ExecutionOptions): string {
  const state = new Execution(options, [{ name: '$', value: data }, ...[...variables].map(([name, value]) => ({ name, value }))]);
  state.walkList(nodes, data);
  return state.output;
}

class Execution {
  output = '';
  readonly #options: ExecutionOptions;
  /** Invariant: innermost variable last; blocks truncate it back to their starting length. */
  readonly #variables: Variable[];
  #iterations = 0;

  constructor(options: ExecutionOptions, variables: Variable[]) {
    this.#options = options;
    this.#variables = variables;
  }

  walkList(nodes: readonly TemplateNode[], dot: TemplateValue): void {
    for (const node of nodes) this.#walk(node, dot);
  }

  #walk(node: TemplateNode, dot: TemplateValue): void {
    switch (node.kind) {
      case 'text':
        this.#write(node.text, node);
        return;
      case 'action': {
        const value = this.#pipeline(node.pipeline, dot);
        if (node.pipeline.declarations.length === 0) this.#write(printActionValue(value), node);
        return;
      }
      case 'if':
      case 'with':
        this.#scoped(() => {
          const value = this.#pipeline(node.pipeline, dot);
          if (isTrue(value)) this.walkList(node.list, node.kind === 'with' ? value : dot);
          else if (node.elseList !== undefined) this.walkList(node.elseList, dot);
        });
        return;
      case 'range':
        this.#scoped(() => this.#range(node, dot));
        return;
    }
  }

  #range(node: BranchNode, dot: TemplateValue): void {
    const value = this.#pipelineWithoutDeclarations(node.pipeline, dot);
    let entries: [TemplateValue, TemplateValue][];
    if (value instanceof Map) {
      const map = value as ReadonlyMap<string, TemplateValue>;
      entries = [...map.keys()].sort().map((key) => [key, map.get(key)!]);
    } else if (Array.isArray(value)) {
      entries = (value as readonly TemplateValue[]).map((element, index) => [BigInt(index), element]);
    } else if (value === null) {
      entries = [];
    } else {
      throw this.#error(node.pipeline.commands[0]!, `range can't iterate over ${printActionValue(value)}`);
    }
    if (entries.length === 0) {
      if (node.elseList !== undefined) this.walkList(node.elseList, dot);
      return;
    }
    const [first, second] = node.pipeline.declarations;
    for (const [key, element] of entries) {
      this.#iterations += 1;
      if (this.#iterations > templateIterationsMax) throw this.#error(node.pipeline.commands[0]!, `more than ${templateIterationsMax} range iterations`);
      this.#scoped(() => {
        if (second !== undefined) {
          this.#declare(first!, key, node.pipeline.assign);
          this.#declare(second, element, node.pipeline.assign);
        } else if (first !== undefined) {
          this.#declare(first, element, node.pipeline.assign);
        }
        this.walkList(node.list, element);
      });
    }
  }

  #scoped(body: () => void): void {
    const depth = this.#variables.length;
    try {
      body();
    } finally {
      this.#variables.length = depth;
    }
  }

  #write(text: string, node: TemplateNode): void {
    if (this.output.length + text.length > templateOutputCharactersMax) {
      const command = node.kind === 'text' ? undefined : node.pipeline.commands[0];
      throw new TemplateExecutionError(`template: ${this.#options.name}: ${command === undefined ? '' : `${this.#where(command.offset)}: `}output is longer than ${templateOutputCharactersMax} characters`);
    }
    this.output += text;
  }

  #pipelineWithoutDeclarations(pipeline: Pipeline, dot: TemplateValue): TemplateValue {
    return this.#commands(pipeline, dot);
  }

  #pipeline(pipeline: Pipeline, dot: TemplateValue): TemplateValue {
    const value = this.#commands(pipeline, dot);
    for (const name of pipeline.declarations) this.#declare(name, value, pipeline.assign);
    return value;
  }

  #commands(pipeline: Pipeline, dot: TemplateValue): TemplateValue {
    let final: Final = noFinal;
    for (const command of pipeline.commands) final = this.#command(command, dot, final);
    return final === noFinal ? null : final;
  }

  #declare(name: string, value: TemplateValue, assign: boolean): void {
    if (assign) {
      for (let index = this.#variables.length - 1; index >= 0; index -= 1) {
        if (this.#variables[index]!.name === name) {
          this.#variables[index]!.value = value;
          return;
        }
      }
    }
    this.#variables.push({ name, value });
  }

  #command(command: Command, dot: TemplateValue, final: Final): TemplateValue {
    const [head, ...rest] = command.operands;
    if (head === undefined) throw this.#error(command, 'empty command');
    if (head.kind === 'function') return this.#call(command, head.name, rest, dot, final);
    if (rest.length > 0 || final !== noFinal) {
      const names = head.kind === 'field' || head.kind === 'variable' || head.kind === 'pipeline' ? head.names : [];
      const what = names.length > 0 ? `${names[names.length - 1]!} is not a method but has arguments` : `can't give argument to non-function ${command.source.split(/\s/)[0]!}`;
      throw this.#error(command, what);
    }
    if (head.kind === 'nil') throw this.#error(command, 'nil is not a command');
    return this.#operand(command, head, dot);
  }

  #call(command: Command, name: string, operands: readonly Operand[], dot: TemplateValue, final: Final): TemplateValue {
    const argumentCount = operands.length + (final === noFinal ? 0 : 1);
    const argument = (index: number): TemplateValue => (index < operands.length ? this.#operand(command, operands[index]!, dot) : (final as TemplateValue));
    if (name === 'and' || name === 'or') {
      if (argumentCount < 1) throw this.#error(command, `wrong number of args for ${name}: want at least 1 got 0`);
      let value: TemplateValue = null;
      for (let index = 0; index < argumentCount; index += 1) {
        value = argument(index);
        if (isTrue(value) !== (name === 'and')) return value;
      }
      return value;
    }
    const implementation = templateFunctions.get(name);
    if (implementation === undefined) throw this.#error(command, `function "${name}" not defined`);
    const [minimum, maximum] = typeof implementation.arity === 'number' ? [implementation.arity, implementation.arity] : implementation.arity;
    if (argumentCount < minimum || argumentCount > maximum) {
      const want = minimum === maximum ? `${minimum}` : `at least ${minimum}`;
      throw this.#error(command, `wrong number of args for ${name}: want ${want} got ${argumentCount}`);
    }
    const values: TemplateValue[] = [];
    for (let index = 0; index < argumentCount; index += 1) values.push(argument(index));
    try {
      return implementation.call(values, this.#options.functions);
    } catch (error) {
      if (error instanceof TemplateExecutionError) throw error;
      throw this.#error(command, `error calling ${name}: ${(error as Error).message}`);
    }
  }

  #operand(command: Command, operand: Operand, dot: TemplateValue): TemplateValue {
    switch (operand.kind) {
      case 'dot': return dot;
      case 'string':
      case 'number':
      case 'bool': return operand.value;
      case 'nil': return null;
      case 'function': return this.#call(command, operand.name, [], dot, noFinal);
      case 'field': return this.#fields(command, operand.receiver === undefined ? dot : this.#operand(command, operand.receiver, dot), operand.names);
      case 'variable': return this.#fields(command, this.#lookup(command, operand.name), operand.names);
      case 'pipeline': return this.#fields(command, this.#pipeline(operand.pipeline, dot), operand.names);
    }
  }

  #lookup(command: Command, name: string): TemplateValue {
    for (let index = this.#variables.length - 1; index >= 0; index -= 1) {
      if (this.#variables[index]!.name === name) return this.#variables[index]!.value;
    }
    throw this.#error(command, `undefined variable: ${name}`);
  }

  #fields(command: Command, receiver: TemplateValue, names: readonly string[]): TemplateValue {
    let value = receiver;
    for (const name of names) {
      try {
        value = field(value, name);
      } catch (error) {
        if (!(error instanceof CallError)) throw error;
        throw this.#error(command, error.message);
      }
    }
    return value;
  }

  #where(offset: number): string {
    const before = this.#options.text.slice(0, offset);
    const line = before.split('\n').length;
    const column = offset - (before.lastIndexOf('\n') + 1);
    return `${this.#options.name}:${line}:${column}`;
  }

  #error(command: Command, message: string): TemplateExecutionError {
    return new TemplateExecutionError(`template: ${this.#where(command.offset)}: executing "${this.#options.name}" at <${command.source}>: ${message}`);
  }
}

function field(value: TemplateValue, name: string): TemplateValue {
  if (value instanceof Map) return (value as ReadonlyMap<string, TemplateValue>).get(name) ?? '';
  if (value instanceof TemplateStruct) {
    const found = value.fields.get(name);
    if (found === undefined) throw new CallError(`can't evaluate field ${name} in type ${value.typeName}`);
    return found;
  }
  if (value === null) throw new CallError(`nil pointer evaluating interface {}.${name}`);
  throw new CallError(`can't evaluate field ${name} in type ${goTypeName(value)}`);
}
