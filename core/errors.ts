/**
 * Domain errors: what went wrong, in the API's terms, never an HTTP status. Core raises
 * {@link DomainError}s with a stable machine-readable `code` and keeps the underlying error as
 * the standard `cause`; the route layer (core/http.ts) maps each code to a status through one
 * table and renders RFC 9457 problem details (`application/problem+json`).
 *
 * @example
 * throw new DomainError('state_conflict', 'busybox--alice is paused: unpause it instead of starting it', { name, state: 'paused' });
 * throw new DomainError('engine_unavailable', 'Engine unreachable (ECONNREFUSED)', { retryAfter: 5 }, { cause: err });
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
  | 'mount_source_missing'
  | 'wrong_mode'
  | 'image_not_approved'
  | 'unauthorized'
  | 'forbidden'
  | 'no_identity'
  | 'payload_too_large'
  | 'rate_limited'
  | 'engine_unavailable'
  | 'engine_timeout'
  | 'engine_error'
  | 'store_unavailable'
  | 'partial_failure'
  | 'batch_failed'
  | 'client_closed'
  | 'app_unreachable'
  | 'internal_error';

/**
 * A failure in the API's own terms. `detail` is the human message; `extra` adds fields to the
 * problem body (`name`, `parameter`, `rule`, ...; `retryAfter` in seconds and `allow`,
 * `wwwAuthenticate` become headers); `options.cause` keeps the error that caused it.
 */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly detail: string,
    readonly extra: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(detail, options);
    this.name = 'DomainError';
  }
}

/** Shorthand for an `invalid_parameter` error naming the parameter and the rule it broke. */
export function invalidParameter(parameter: string, rule: string, value?: unknown): DomainError {
  return new DomainError('invalid_parameter', `${parameter}: ${rule}`, {
    parameter,
    rule,
    ...(value === undefined ? {} : { value: typeof value === 'string' && value.length > 200 ? value.slice(0, 200) + '…' : value }),
  });
}

/** Whether `e` is a {@link DomainError} with one of `codes`. */
export function hasCode(e: unknown, ...codes: ErrorCode[]): e is DomainError {
  return e instanceof DomainError && codes.includes(e.code);
}

/** The Engine could not be asked: unreachable, timed out, or answered what it should not. */
export const ENGINE_FAULTS: readonly ErrorCode[] = ['engine_unavailable', 'engine_timeout', 'engine_error'];
