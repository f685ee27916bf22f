/**
 * Go's `fmt.Sprintf` for the values a template holds: flags `-+ 0#`, width, precision, and the verbs
 * v, s, q, d, f, F, e, E, g, G, t, x, X and %%. A verb that does not fit its argument prints Go's
 * `%!d(string=abc)`; missing and extra arguments print `%!d(MISSING)` and `%!(EXTRA ...)`.
 */
import { formatGoFloat, formatPrecisionMax } from './_go-format.ts';
import type { TemplateValue } from './_template-values.ts';
import { goTypeName, printValue } from './_template-values.ts';

/** Widest field a format may ask for; larger widths are refused like Go refuses huge ones. */
export const printfWidthMax = 1000;

interface Directive {
  readonly minus: boolean;
  readonly plus: boolean;
  readonly space: boolean;
  readonly zero: boolean;
  readonly sharp: boolean;
  readonly width: number | undefined;
  readonly precision: number | undefined;
  readonly verb: string;
}

const directivePattern = /^([-+ 0#]*)(\d*)(?:\.(\d*))?(.)/su;

/**
 * `fmt.Sprintf(format, args...)`.
 *
 * @example
 * goSprintf('%.2f', [3.14159]); // '3.14'
 * goSprintf('%d', ['x']); // '%!d(string=x)'
 */
export function goSprintf(format: string, args: readonly TemplateValue[]): string {
  let result = '';
  let argumentIndex = 0;
  let index = 0;
  while (index < format.length) {
    const percent = format.indexOf('%', index);
    if (percent < 0) {
      result += format.slice(index);
      break;
    }
    result += format.slice(index, percent);
    const match = directivePattern.exec(format.slice(percent + 1));
    if (match === null) {
      result += '%!(NOVERB)';
      break;
    }
    index = percent + 1 + match[0].length;
    const directive = parseDirective(match);
    if (directive === undefined) {
      result += '%!(BADWIDTH)';
      continue;
    }
    if (directive.verb === '%') {
      result += '%';
      continue;
    }
    if (argumentIndex >= args.length) {
      result += `%!${directive.verb}(MISSING)`;
      continue;
    }
    result += formatArgument(directive, args[argumentIndex]!);
    argumentIndex += 1;
  }
  if (argumentIndex < args.length) {
    const extra = args.slice(argumentIndex).map((value) => `${goTypeName(value)}=${printValue(value)}`);
    result += `%!(EXTRA ${extra.join(', ')})`;
  }
  return result;
}

function parseDirective(match: RegExpExecArray): Directive | undefined {
  const flags = match[1] ?? '';
  const width = match[2] === '' || match[2] === undefined ? undefined : Number(match[2]);
  const precision = match[3] === undefined ? undefined : match[3] === '' ? 0 : Number(match[3]);
  if ((width ?? 0) > printfWidthMax || (precision ?? 0) > formatPrecisionMax) return undefined;
  return {
    minus: flags.includes('-'),
    plus: flags.includes('+'),
    space: flags.includes(' '),
    zero: flags.includes('0') && !flags.includes('-'),
    sharp: flags.includes('#'),
    width,
    precision,
    verb: match[4]!,
  };
}

function badVerb(directive: Directive, value: TemplateValue): string {
  return `%!${directive.verb}(${goTypeName(value)}=${printValue(value)})`;
}

function formatArgument(directive: Directive, value: TemplateValue): string {
  const body = formatBody(directive, value);
  if (body === undefined) return badVerb(directive, value);
  return pad(directive, body, typeof value === 'number' || typeof value === 'bigint');
}

function formatBody(directive: Directive, value: TemplateValue): string | undefined {
  const verb = directive.verb;
  if (verb === 'v') return typeof value === 'number' ? signed(directive, value, formatGoFloat(value, 'g', directive.precision ?? -1)) : printValue(value);
  if (typeof value === 'number') return formatFloat(directive, value);
  if (typeof value === 'bigint') return formatInteger(directive, value);
  if (typeof value === 'string') return formatString(directive, value);
  if (typeof value === 'boolean') return verb === 't' ? String(value) : undefined;
  return verb === 's' ? printValue(value) : undefined;
}

function formatFloat(directive: Directive, value: number): string | undefined {
  const verb = directive.verb;
  if (verb === 'f' || verb === 'F') return signed(directive, value, formatGoFloat(value, 'f', directive.precision ?? 6));
  if (verb === 'e' || verb === 'E') return signed(directive, value, formatGoFloat(value, verb, directive.precision ?? 6));
  if (verb === 'g' || verb === 'G') return signed(directive, value, formatGoFloat(value, verb, directive.precision ?? -1));
  return undefined;
}

function formatInteger(directive: Directive, value: bigint): string | undefined {
  const magnitude = value < 0n ? -value : value;
  let digits: string;
  switch (directive.verb) {
    case 'd': digits = magnitude.toString(10); break;
    case 'x': digits = (directive.sharp ? '0x' : '') + magnitude.toString(16); break;
    case 'X': digits = (directive.sharp ? '0X' : '') + magnitude.toString(16).toUpperCase(); break;
    case 'o': digits = magnitude.toString(8); break;
    case 'b': digits = magnitude.toString(2); break;
    default: return undefined;
  }
  if (directive.precision !== undefined) digits = digits.padStart(directive.precision, '0');
  const sign = value < 0n ? '-' : directive.plus ? '+' : directive.space ? ' ' : '';
  return sign + digits;
}

function formatString(directive: Directive, value: string): string | undefined {
  const text = directive.precision === undefined ? value : [...value].slice(0, directive.precision).join('');
  switch (directive.verb) {
    case 's': return text;
    case 'q': return goQuote(text);
    case 'x': return Buffer.from(text, 'utf8').toString('hex');
    case 'X': return Buffer.from(text, 'utf8').toString('hex').toUpperCase();
    default: return undefined;
  }
}

/** Adds `+` or a space to a non-negative number's text when the flags ask for it. */
function signed(directive: Directive, value: number, text: string): string {
  if (text.startsWith('-') || text.startsWith('+') || Number.isNaN(value)) return text;
  return directive.plus ? `+${text}` : directive.space ? ` ${text}` : text;
}

function pad(directive: Directive, body: string, numeric: boolean): string {
  const width = directive.width ?? 0;
  const length = [...body].length;
  if (length >= width) return body;
  const fill = width - length;
  if (directive.minus) return body + ' '.repeat(fill);
  if (directive.zero && numeric && /^[+\- ]?[0-9]/.test(body)) {
    const sign = /^[+\- ]/.test(body) ? body[0]! : '';
    return sign + '0'.repeat(fill) + body.slice(sign.length);
  }
  return ' '.repeat(fill) + body;
}

/** Go's strconv.Quote: printable characters as they are, others escaped. */
export function goQuote(text: string): string {
  let result = '"';
  for (const character of text) {
    const code = character.codePointAt(0)!;
    if (character === '"' || character === '\\') result += `\\${character}`;
    else if (character === '\n') result += '\\n';
    else if (character === '\t') result += '\\t';
    else if (character === '\r') result += '\\r';
    else if (code < 0x20 || code === 0x7f) result += `\\x${code.toString(16).padStart(2, '0')}`;
    else result += character;
  }
  return `${result}"`;
}
