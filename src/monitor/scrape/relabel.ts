/**
 * Relabelling with Prometheus's semantics (model/relabel): the actions replace (default), keep, drop,
 * keepequal, dropequal, hashmod, labelmap, labeldrop, labelkeep, lowercase and uppercase; source labels
 * joined by a separator; anchored RE2 regexes; `$1`/`${name}` templates. Configurations are validated
 * when built, with Prometheus's messages, so a bad rule fails at config load and never mid-scrape.
 */
import { createHash } from 'node:crypto';
import { isValidLabelName, Labels, TsdbError } from '../tsdb/index.ts';
import { compileRelabelRegex, compileTemplate, expandTemplate } from './_relabel-regex.ts';
import type { RelabelRegex } from './_relabel-regex.ts';

export type { RelabelRegex } from './_relabel-regex.ts';

/** Every action, in Prometheus's spelling. */
export const relabelActions = [
  'replace', 'keep', 'drop', 'keepequal', 'dropequal', 'hashmod', 'labelmap', 'labeldrop', 'labelkeep', 'lowercase', 'uppercase',
] as const;
export type RelabelAction = (typeof relabelActions)[number];

/** Most rules in one relabelling list; real configurations have a handful. */
export const relabelRulesMax = 1000;
/** Most source labels one rule may join. */
export const relabelSourceLabelsMax = 256;

/** Prometheus's pattern for a target label or labelmap replacement that contains `$` references. */
const relabelTargetPattern = /^(?:(?:[a-zA-Z_]|\$(?:\{\w+\}|\w+))+\w*)+$/;
const defaultRegexSource = '(.*)';
const defaultReplacement = '$1';
const defaultSeparator = ';';

/** The fields of a `relabel_configs` entry as written; absent fields take Prometheus's defaults. */
export interface RelabelConfigInput {
  readonly sourceLabels?: readonly string[];
  readonly separator?: string;
  /** Absent: `(.*)`. Present, even as `(.*)`, counts as set for keepequal/dropequal's checks. */
  readonly regex?: string;
  readonly modulus?: bigint;
  readonly targetLabel?: string;
  readonly replacement?: string;
  /** Case-insensitive, as in Prometheus. */
  readonly action?: string;
}

/** A validated rule, ready to apply. */
export interface RelabelConfig {
  readonly action: RelabelAction;
  readonly sourceLabels: readonly string[];
  readonly separator: string;
  readonly regex: RelabelRegex;
  readonly modulus: bigint;
  readonly targetLabel: string;
  readonly replacement: string;
  /** Compiled `targetLabel` and `replacement` templates (replace and labelmap). */
  readonly targetTemplate: ReturnType<typeof compileTemplate>;
  readonly replacementTemplate: ReturnType<typeof compileTemplate>;
}

export type RelabelErrorCode = 'RELABEL_INVALID_CONFIG' | 'RELABEL_INVALID_REGEX';

/** A rule Prometheus would refuse to load. */
export class RelabelError extends Error {
  readonly code: RelabelErrorCode;

  constructor(code: RelabelErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RelabelError';
    this.code = code;
  }
}

/**
 * Validates a rule and compiles its regex and templates. Throws a {@link RelabelError} with Prometheus's
 * message for anything Prometheus refuses.
 *
 * @example
 * const rule = newRelabelConfig({ sourceLabels: ['__address__'], regex: '(.+):\\d+', targetLabel: 'host' });
 * relabel(Labels.fromRecord({ __address__: 'db:9100' }), [rule])?.get('host'); // 'db'
 */
export function newRelabelConfig(input: RelabelConfigInput): RelabelConfig {
  const action = parseAction(input.action);
  const sourceLabels = input.sourceLabels ?? [];
  if (sourceLabels.length > relabelSourceLabelsMax) invalid(`at most ${relabelSourceLabelsMax} source_labels are allowed`);
  for (const name of sourceLabels) {
    if (!isValidLabelName(name)) invalid(`${JSON.stringify(name)} is not a valid label name`);
  }
  let regex: RelabelRegex;
  try {
    regex = compileRelabelRegex(input.regex ?? defaultRegexSource);
  } catch (error) {
    if (!(error instanceof TsdbError)) throw error;
    throw new RelabelError('RELABEL_INVALID_REGEX', error.message, { cause: error });
  }
  const config: RelabelConfig = {
    action,
    sourceLabels,
    separator: input.separator ?? defaultSeparator,
    regex,
    modulus: input.modulus ?? 0n,
    targetLabel: input.targetLabel ?? '',
    replacement: input.replacement ?? defaultReplacement,
    targetTemplate: compileTemplate(input.targetLabel ?? '', regex),
    replacementTemplate: compileTemplate(input.replacement ?? defaultReplacement, regex),
  };
  validate(config, input);
  return config;
}

function parseAction(text: string | undefined): RelabelAction {
  const action = (text ?? 'replace').toLowerCase();
  const known = relabelActions.find((candidate) => candidate === action);
  if (known === undefined) invalid(`unknown relabel action ${JSON.stringify(text)}`);
  return known;
}

/** Prometheus's relabel.Config.Validate, check for check. */
function validate(config: RelabelConfig, input: RelabelConfigInput): void {
  const { action, targetLabel, replacement } = config;
  const needsTarget = ['replace', 'hashmod', 'lowercase', 'uppercase', 'keepequal', 'dropequal'].includes(action);
  const plainTarget = ['lowercase', 'uppercase', 'keepequal', 'dropequal', 'hashmod'].includes(action);
  if (action === 'hashmod' && config.modulus === 0n) invalid('relabel configuration for hashmod requires non-zero modulus');
  if (needsTarget && targetLabel === '') invalid(`relabel configuration for ${action} action requires 'target_label' value`);
  const targetIsTemplate = targetLabel.includes('$');
  const badReplaceTarget = targetIsTemplate ? !relabelTargetPattern.test(targetLabel) : !isValidLabelName(targetLabel);
  if ((action === 'replace' && badReplaceTarget) || (plainTarget && !isValidLabelName(targetLabel))) {
    invalid(`${JSON.stringify(targetLabel)} is invalid 'target_label' for ${action} action`);
  }
  if (['lowercase', 'uppercase', 'keepequal', 'dropequal'].includes(action) && replacement !== defaultReplacement) {
    invalid(`'replacement' can not be set for ${action} action`);
  }
  if (action === 'labelmap' && !relabelTargetPattern.test(replacement)) {
    invalid(`${JSON.stringify(replacement)} is invalid 'replacement' for ${action} action`);
  }
  const otherFieldsDefault = config.modulus === 0n && config.separator === defaultSeparator && replacement === defaultReplacement;
  if ((action === 'keepequal' || action === 'dropequal') && (input.regex !== undefined || !otherFieldsDefault)) {
    invalid(`${action} action requires only 'source_labels' and \`target_label\`, and no other fields`);
  }
  if ((action === 'labeldrop' || action === 'labelkeep') && (input.sourceLabels !== undefined || targetLabel !== '' || !otherFieldsDefault)) {
    invalid(`${action} action requires only 'regex', and no other fields`);
  }
}

function invalid(message: string): never {
  throw new RelabelError('RELABEL_INVALID_CONFIG', message);
}

/**
 * Applies `configs` in order to a mutable label map (an empty value means absent). Returns false when a
 * rule dropped the set; the map is then in an unspecified state.
 *
 * @example
 * const labels = new Map([['__address__', 'db:9100']]);
 * relabelMap(labels, [newRelabelConfig({ action: 'drop', sourceLabels: ['__address__'], regex: 'db:.*' })]); // false
 */
export function relabelMap(labels: Map<string, string>, configs: readonly RelabelConfig[]): boolean {
  for (const config of configs) {
    if (!applyRule(labels, config)) return false;
  }
  return true;
}

/**
 * Applies `configs` to a label set. Returns undefined when a rule dropped it. Throws a TsdbError when the
 * result is not a valid label set (a rule wrote an invalid metric name or label name).
 *
 * @example
 * const rule = newRelabelConfig({ action: 'labeldrop', regex: 'pod' });
 * relabel(Labels.fromRecord({ __name__: 'up', pod: 'a' }), [rule])?.toString(); // 'up'
 */
export function relabel(labels: Labels, configs: readonly RelabelConfig[]): Labels | undefined {
  if (configs.length === 0) return labels;
  const map = new Map<string, string>();
  for (const { name, value } of labels) map.set(name, value);
  if (!relabelMap(map, configs)) return undefined;
  return Labels.fromPairs(map);
}

function setLabel(labels: Map<string, string>, name: string, value: string): void {
  if (value === '') labels.delete(name);
  else labels.set(name, value);
}

function applyRule(labels: Map<string, string>, config: RelabelConfig): boolean {
  const value = config.sourceLabels.map((name) => labels.get(name) ?? '').join(config.separator);
  switch (config.action) {
    case 'drop':
      return !config.regex.regExp.test(value);
    case 'keep':
      return config.regex.regExp.test(value);
    case 'dropequal':
      return (labels.get(config.targetLabel) ?? '') !== value;
    case 'keepequal':
      return (labels.get(config.targetLabel) ?? '') === value;
    case 'replace':
      applyReplace(labels, config, value);
      return true;
    case 'lowercase':
      setLabel(labels, config.targetLabel, mapCase(value, 'lower'));
      return true;
    case 'uppercase':
      setLabel(labels, config.targetLabel, mapCase(value, 'upper'));
      return true;
    case 'hashmod':
      setLabel(labels, config.targetLabel, hashMod(value, config.modulus).toString());
      return true;
    case 'labelmap':
    case 'labeldrop':
    case 'labelkeep':
      applyNameRule(labels, config);
      return true;
  }
}

function applyReplace(labels: Map<string, string>, config: RelabelConfig, value: string): void {
  const match = config.regex.regExp.exec(value);
  if (match === null) return;
  const target = expandTemplate(config.targetTemplate, match);
  if (!isValidLabelName(target)) return;
  setLabel(labels, target, expandTemplate(config.replacementTemplate, match));
}

/** labelmap, labeldrop and labelkeep look at label names, over the set as it was before the rule. */
function applyNameRule(labels: Map<string, string>, config: RelabelConfig): void {
  for (const [name, value] of [...labels]) {
    const match = config.regex.regExp.exec(name);
    if (config.action === 'labeldrop' && match !== null) labels.delete(name);
    else if (config.action === 'labelkeep' && match === null) labels.delete(name);
    else if (config.action === 'labelmap' && match !== null) setLabel(labels, expandTemplate(config.replacementTemplate, match), value);
  }
}

/**
 * Prometheus's hashmod: the MD5 of the value, its last 8 bytes read as a big-endian unsigned 64-bit
 * integer, modulo `modulus`.
 *
 * @example
 * hashMod('10.0.0.1:9100', 8n); // a bigint in [0, 8)
 */
export function hashMod(value: string, modulus: bigint): bigint {
  const digest = createHash('md5').update(value, 'utf8').digest();
  return digest.readBigUInt64BE(8) % modulus;
}

/**
 * Go's strings.ToLower/ToUpper: each code point through its simple (one-to-one) mapping. JavaScript's
 * full mappings (`ß` → `SS`, `İ` → `i̇`) change the length, so such code points are left as they are.
 */
function mapCase(value: string, direction: 'lower' | 'upper'): string {
  const mapped = direction === 'lower' ? value.toLowerCase() : value.toUpperCase();
  if (/^\p{ASCII}*$/u.test(value)) return mapped;
  let result = '';
  for (const character of value) {
    const single = direction === 'lower' ? character.toLowerCase() : character.toUpperCase();
    result += [...single].length === 1 ? single : character;
  }
  return result;
}
