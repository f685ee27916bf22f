/**
 * What every API handler receives and returns, and the helpers the series endpoints share: `match[]`
 * parsing with Prometheus's checks and the response-size limits.
 */
import type { IncomingMessage } from 'node:http';
import type { Matcher } from '../tsdb/index/matcher.ts';
import { ApiError, invalidParameter } from './errors.ts';
import type { FormValues } from './request.ts';
import { parseMetricSelector, SelectorParseError } from './selector.ts';
import type { ApiOptions } from './types.ts';

/**
 * Most series, label names or label values one answer holds. Newer Prometheus releases take a `limit`
 * parameter; keel also refuses answers above this bound, so a careless `match[]={__name__=~".+"}` cannot
 * build an unbounded response.
 */
export const responseItemsMax = 100_000;
/** Most `match[]` selectors in one request. */
export const selectorsPerRequestMax = 100;

/** Prometheus's warning when `limit` cut an answer short. */
export const truncatedWarning = 'results truncated due to limit';

export interface HandlerContext {
  readonly request: IncomingMessage;
  readonly form: FormValues;
  /** Path parameters (the label name of `/api/v1/label/<name>/values`). */
  readonly parameters: Readonly<Record<string, string>>;
  readonly options: ApiOptions;
}

/** A handler's success: the `data` of the envelope (or its JSON text) and any warnings. */
export type ApiResult = ({ readonly data: unknown } | { readonly dataJson: string }) & { readonly warnings?: readonly string[] };

export type Handler = (context: HandlerContext) => ApiResult | Promise<ApiResult>;

/**
 * Parses every `match[]` selector. Prometheus wraps the errors as `invalid parameter "match[]": ...` for
 * `/series` but not for `/labels` and `/label/<name>/values`; `wrapErrors` chooses.
 */
export function parseMatcherSets(selectors: readonly string[], wrapErrors: boolean): Matcher[][] {
  if (selectors.length > selectorsPerRequestMax) throw new ApiError('bad_data', `more than ${selectorsPerRequestMax} match[] parameters`);
  const wrap = (message: string): ApiError => (wrapErrors ? invalidParameter('match[]', message) : new ApiError('bad_data', message));
  const sets: Matcher[][] = [];
  for (const selector of selectors) {
    let matchers: Matcher[];
    try {
      matchers = parseMetricSelector(selector);
    } catch (error) {
      if (error instanceof SelectorParseError) throw wrap(error.message);
      throw error;
    }
    // The storage needs one matcher that rejects the empty value, or it would have to list every series.
    if (matchers.every((matcher) => matcher.matchesEmpty)) throw wrap('match[] must contain at least one non-empty matcher');
    sets.push(matchers);
  }
  return sets;
}

/**
 * Applies the `limit` parameter and the hard bound to a sorted list: a list longer than the requested limit
 * is cut with Prometheus's warning; one longer than {@link responseItemsMax} without a smaller limit is
 * refused, so that no client mistakes a capped answer for a complete one.
 */
export function applyLimit<T>(items: readonly T[], limit: number | undefined, what: string): ApiResult {
  if (limit !== undefined && limit <= responseItemsMax && items.length > limit) {
    return { data: items.slice(0, limit), warnings: [truncatedWarning] };
  }
  if (items.length > responseItemsMax) {
    throw new ApiError('execution', `the answer has more than ${responseItemsMax} ${what}; narrow match[] or the time range, or pass limit`);
  }
  return { data: items };
}
