/**
 * Values inside a template, as Go's text/template sees them: float64 is a JavaScript number, Go integers
 * (literals, `len`) are bigints, maps are `Map`s, the alert's data is a {@link TemplateStruct}. Printing
 * follows `fmt.Sprint`, truth follows text/template's `truth`.
 */
import { formatGoTimeString, formatGoValue } from './_go-format.ts';

/** A Go struct value with named fields (the alert template data). */
export class TemplateStruct {
  readonly typeName: string;
  readonly fields: ReadonlyMap<string, TemplateValue>;

  constructor(typeName: string, fields: ReadonlyMap<string, TemplateValue>) {
    this.typeName = typeName;
    this.fields = fields;
  }
}

/** A Go `*time.Time` (what `toTime` returns), millisecond resolution. */
export class TemplateTime {
  readonly timeMs: number;

  constructor(timeMs: number) {
    this.timeMs = timeMs;
  }
}

export type TemplateValue =
  | string
  | number
  | bigint
  | boolean
  | null
  | TemplateStruct
  | TemplateTime
  | ReadonlyMap<string, TemplateValue>
  | readonly TemplateValue[];

/** The Go type name of a value, as `fmt` prints it in `%!d(string=x)`. */
export function goTypeName(value: TemplateValue): string {
  if (value === null) return '<nil>';
  switch (typeof value) {
    case 'string': return 'string';
    case 'number': return 'float64';
    case 'bigint': return 'int';
    case 'boolean': return 'bool';
    default: break;
  }
  if (value instanceof TemplateStruct) return value.typeName;
  if (value instanceof TemplateTime) return '*time.Time';
  if (value instanceof Map) return 'map[string]string';
  return '[]interface {}';
}

/** text/template's truth: false, 0, nil and empty strings, maps and lists are false. */
export function isTrue(value: TemplateValue): boolean {
  if (value === null) return false;
  switch (typeof value) {
    case 'string': return value !== '';
    case 'number': return value !== 0;
    case 'bigint': return value !== 0n;
    case 'boolean': return value;
    default: break;
  }
  if (value instanceof TemplateStruct || value instanceof TemplateTime) return true;
  if (value instanceof Map) return value.size > 0;
  return (value as readonly TemplateValue[]).length > 0;
}

/** `fmt.Sprint(value)` for one value (`%v`). */
export function printValue(value: TemplateValue): string {
  if (value === null) return '<nil>';
  switch (typeof value) {
    case 'string': return value;
    case 'number': return formatGoValue(value);
    case 'bigint': return value.toString();
    case 'boolean': return value ? 'true' : 'false';
    default: break;
  }
  if (value instanceof TemplateTime) return formatGoTimeString(value.timeMs);
  if (value instanceof TemplateStruct) return `{${[...value.fields.values()].map(printValue).join(' ')}}`;
  if (value instanceof Map) {
    const keys = [...(value as ReadonlyMap<string, TemplateValue>).keys()].sort();
    return `map[${keys.map((key) => `${key}:${printValue((value as ReadonlyMap<string, TemplateValue>).get(key)!)}`).join(' ')}]`;
  }
  return `[${(value as readonly TemplateValue[]).map(printValue).join(' ')}]`;
}

/** How text/template writes an action's value: like `fmt.Sprint`, but a missing value is `<no value>`. */
export function printActionValue(value: TemplateValue): string {
  return value === null ? '<no value>' : printValue(value);
}

/** `fmt.Sprint(a, b, ...)`: a space between two operands when neither is a string. */
export function sprint(values: readonly TemplateValue[]): string {
  let text = '';
  values.forEach((value, index) => {
    if (index > 0 && typeof value !== 'string' && typeof values[index - 1] !== 'string') text += ' ';
    text += printValue(value);
  });
  return text;
}
