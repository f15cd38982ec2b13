/**
 * API errors: one class, rendered as RFC 9457 problem details
 * (`application/problem+json`) with a stable machine-readable `code`.
 *
 * @example
 * throw new ApiError(409, 'app_paused', 'busybox--alice is paused: unpause it instead of starting it');
 *
 * @module
 */

/** Stable error codes. Clients may switch on these; never rename one. */
export type ErrorCode =
  | 'invalid_parameter'
  | 'unknown_facility'
  | 'unknown_route'
  | 'method_not_allowed'
  | 'app_not_found'
  | 'image_not_found'
  | 'node_not_found'
  | 'app_exists'
  | 'state_conflict'
  | 'wrong_mode'
  | 'image_not_approved'
  | 'unauthorized'
  | 'forbidden'
  | 'payload_too_large'
  | 'rate_limited'
  | 'engine_unavailable'
  | 'engine_timeout'
  | 'engine_error'
  | 'store_unavailable'
  | 'partial_failure'
  | 'internal_error';

/** An error that maps to an HTTP answer. `detail` is the human message; `extra` adds fields. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    readonly detail: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(detail);
    this.name = 'ApiError';
  }

  /** The problem-details body: `{type, title, status, code, detail, ...extra}`. */
  toJSON(): Record<string, unknown> {
    const { wwwAuthenticate: _hidden, ...extra } = this.extra;
    return {
      type: `https://src-container-api.dev/errors/${this.code}`,
      title: TITLES[this.status] ?? 'Error',
      status: this.status,
      code: this.code,
      detail: this.detail,
      ...extra,
    };
  }
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  414: 'URI Too Long',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** Builds a problem-details `Response` for an `ApiError`. */
export function problemResponse(err: ApiError, headers?: HeadersInit): Response {
  const h = new Headers(headers);
  h.set('content-type', 'application/problem+json');
  return new Response(JSON.stringify(err.toJSON()), { status: err.status, headers: h });
}

/** Shorthand for a 400 naming the parameter and the rule it broke. */
export function invalidParameter(parameter: string, rule: string, value?: unknown): ApiError {
  return new ApiError(400, 'invalid_parameter', `${parameter}: ${rule}`, {
    parameter,
    rule,
    ...(value === undefined ? {} : { value: typeof value === 'string' && value.length > 200 ? value.slice(0, 200) + '…' : value }),
  });
}

/**
 * The status of an answer about several items, some of which may have failed: 200 when none
 * failed, the failures' status when all failed with the same one, else 207 (Multi-Status).
 * @param failed the statuses of the failed items
 * @param total how many items the answer holds
 */
export function batchStatus(failed: number[], total: number): number {
  if (failed.length === 0) return 200;
  const statuses = new Set(failed);
  return failed.length === total && statuses.size === 1 ? failed[0] : 207;
}
