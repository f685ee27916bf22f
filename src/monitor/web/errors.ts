/**
 * The HTTP API's errors: Prometheus's error types, each with its HTTP status code, so a client (Grafana,
 * promtool, the Prometheus UI) can branch on `errorType` exactly as it does against Prometheus.
 */

/** Prometheus's `errorType` values. */
export type ApiErrorType = 'bad_data' | 'execution' | 'timeout' | 'canceled' | 'internal' | 'unavailable' | 'not_found';

/** Prometheus's mapping from error type to HTTP status (web/api/v1 respondError). */
export const httpStatusByErrorType: Readonly<Record<ApiErrorType, number>> = {
  bad_data: 400,
  execution: 422,
  timeout: 503,
  canceled: 503,
  internal: 500,
  unavailable: 503,
  not_found: 404,
};

/**
 * An error answered with Prometheus's error envelope `{"status":"error","errorType":...,"error":...}`.
 *
 * @example
 * throw new ApiError('bad_data', 'no match[] parameter provided');
 */
export class ApiError extends Error {
  readonly type: ApiErrorType;

  constructor(type: ApiErrorType, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ApiError';
    this.type = type;
  }

  /** The HTTP status Prometheus answers this error type with. */
  get httpStatus(): number {
    return httpStatusByErrorType[this.type];
  }
}

/**
 * Prometheus's `invalid parameter "name": reason` error (bad_data).
 *
 * @example
 * invalidParameter('start', 'cannot parse "x" to a valid timestamp');
 */
export function invalidParameter(parameter: string, reason: string): ApiError {
  return new ApiError('bad_data', `invalid parameter ${JSON.stringify(parameter)}: ${reason}`);
}
