/**
 * Alert templates: the `labels` and `annotations` of an alerting rule are Go templates that Prometheus
 * expands for every alert with `$labels`, `$value`, `$externalLabels` and `$externalURL` predeclared.
 * keel runs a safe subset of Go's text/template (see _template-parse.ts for the syntax and
 * _template-functions.ts for the functions): no queries, bounded output and loops, and a clear error for
 * anything outside the subset, found when the rule file is loaded.
 *
 * @example
 * const template = AlertTemplate.compile('{{ $labels.instance }} is at {{ humanize $value }}', 'HighLoad');
 * template.expand({ labels: Labels.fromRecord({ instance: 'a:1' }), externalLabels: Labels.empty, externalUrl: '', value: 1234 });
 * // 'a:1 is at 1.234k'
 */
import type { Labels } from '../tsdb/index.ts';
import { executeTemplate } from './_template-exec.ts';
import { isTemplateFunction, unsupportedTemplateFunctions } from './_template-functions.ts';
import { parseTemplate } from './_template-parse.ts';
import type { FunctionCatalog, TemplateNode } from './_template-parse.ts';
import { TemplateStruct } from './_template-values.ts';
import type { TemplateValue } from './_template-values.ts';

export { TemplateExecutionError, templateIterationsMax, templateOutputCharactersMax } from './_template-exec.ts';
export { templateCharactersMax, templateNestingMax, templateTokensMax, TemplateSyntaxError } from './_template-parse.ts';

/** What an alert's templates see. */
export interface AlertTemplateData {
  /** The labels of the expression's result (the metric name included, if the result kept it). */
  readonly labels: Labels;
  readonly externalLabels: Labels;
  readonly externalUrl: string;
  readonly value: number;
}

/** Prometheus prepends these to every alert template, so `$labels` and friends exist. */
const predeclarations = '{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}';
const dataTypeName = 'struct { Labels map[string]string; ExternalLabels map[string]string; ExternalURL string; Value float64 }';

const catalog: FunctionCatalog = {
  has: isTemplateFunction,
  unsupportedReason: (name) => unsupportedTemplateFunctions.get(name),
};

/** One compiled label or annotation template. */
export class AlertTemplate {
  /** The template as written. */
  readonly text: string;
  /** `__alert_` and the alert's name, as Prometheus names it in errors. */
  readonly name: string;
  /** Undefined when the text has no actions (expansion returns it unchanged). */
  readonly #nodes: readonly TemplateNode[] | undefined;
  readonly #source: string;

  private constructor(text: string, name: string, nodes: readonly TemplateNode[] | undefined, source: string) {
    this.text = text;
    this.name = name;
    this.#nodes = nodes;
    this.#source = source;
  }

  /**
   * Parses `text` for the alert named `alertName`. Throws a `TemplateSyntaxError` whose message reads like
   * Go's (`template: __alert_X:1: function "foo" not defined`).
   */
  static compile(text: string, alertName: string): AlertTemplate {
    const name = `__alert_${alertName}`;
    if (!text.includes('{{')) return new AlertTemplate(text, name, undefined, text);
    const source = predeclarations + text;
    return new AlertTemplate(text, name, parseTemplate(source, name, catalog, []), source);
  }

  /** Expands the template; throws a `TemplateExecutionError` when a function or field lookup fails. */
  expand(data: AlertTemplateData): string {
    if (this.#nodes === undefined) return this.text;
    const root = new TemplateStruct(dataTypeName, new Map<string, TemplateValue>([
      ['Labels', labelMap(data.labels)],
      ['ExternalLabels', labelMap(data.externalLabels)],
      ['ExternalURL', data.externalUrl],
      ['Value', data.value],
    ]));
    return executeTemplate(this.#nodes, root, new Map(), { name: this.name, text: this.#source, functions: { externalUrl: data.externalUrl } });
  }

  /**
   * Expands like Prometheus's alerting rule does: a failure becomes the text
   * `<error expanding template: error executing template NAME: ...>` instead of an error.
   */
  expandOrDescribeError(data: AlertTemplateData): { text: string; error: Error | undefined } {
    try {
      return { text: this.expand(data), error: undefined };
    } catch (error) {
      const cause = error instanceof Error ? error : new Error(String(error));
      return { text: `<error expanding template: error executing template ${this.name}: ${cause.message}>`, error: cause };
    }
  }
}

function labelMap(labels: Labels): ReadonlyMap<string, TemplateValue> {
  const map = new Map<string, TemplateValue>();
  for (const label of labels) map.set(label.name, label.value);
  return map;
}
