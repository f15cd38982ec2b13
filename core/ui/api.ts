/**
 * The dashboard's way into the API: it calls the route functions' own `fetch` in-process with
 * the session's bearer token, so every page sees and may do exactly what that token may
 * (authentication, roles, facilities, per-user scope, validation, audit: all the API's).
 *
 * @example
 * const r = await callRoute(session.token, 'demo', 'get-app-status');
 * if (r.ok) r.body // the array; else r.problem.detail
 *
 * @module
 */
import { routes } from '../../functions/index.ts';

/** An API answer: the parsed JSON, or the problem. */
export interface ApiAnswer<T = unknown> {
  status: number;
  /** 2xx and not a 207 (a 207 has failed items: see {@link failures}). */
  ok: boolean;
  body: T;
  problem?: { code?: string; detail?: string; title?: string; results?: unknown[] };
  headers: Headers;
}

/** Calls route `route` of `facility` with `params` as the holder of `token` would over HTTP. */
export async function callRoute<T = unknown>(
  token: string,
  facility: string,
  route: string,
  params: Record<string, string | string[] | undefined> = {},
  opts: { signal?: AbortSignal } = {},
): Promise<ApiAnswer<T>> {
  const res = await routeResponse(token, facility, route, params, opts);
  const text = await res.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = text;
  }
  const isProblem = (res.headers.get('content-type') ?? '').includes('problem+json');
  return {
    status: res.status,
    ok: res.status >= 200 && res.status < 300 && res.status !== 207,
    body: body as T,
    problem: isProblem ? (body as ApiAnswer['problem']) : undefined,
    headers: res.headers,
  };
}

/** The route function's raw Response (for streams: get-app-logs). */
export async function routeResponse(
  token: string,
  facility: string,
  route: string,
  params: Record<string, string | string[] | undefined> = {},
  opts: { signal?: AbortSignal } = {},
): Promise<Response> {
  const fn = routes.find((r) => r.meta.route === route);
  if (!fn) throw new Error(`no route ${route}`);
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === '') continue;
    q.set(k, Array.isArray(v) ? v.join(',') : v);
  }
  const qs = q.toString();
  const url = `http://dashboard.internal/${encodeURIComponent(facility)}/${route}${qs ? `?${qs}` : ''}`;
  return fn.fetch(new Request(url, { method: fn.meta.method, headers: { authorization: `Bearer ${token}` }, signal: opts.signal }));
}

/** The failed items of a batch answer (a 207's `{name, error}` entries), as `name: detail` lines. */
export function failures(a: ApiAnswer): string[] {
  const items = Array.isArray(a.body) ? a.body : Array.isArray(a.problem?.results) ? a.problem.results : [];
  const out: string[] = [];
  for (const it of items as Record<string, unknown>[]) {
    const err = it?.error as { detail?: string; code?: string } | undefined;
    if (err) out.push(`${String(it.name ?? '')}: ${err.detail ?? err.code ?? 'failed'}`);
  }
  return out;
}

/** A problem as one line: its detail, else its title, else the status. */
export function problemText(a: ApiAnswer): string {
  return a.problem?.detail ?? a.problem?.title ?? `HTTP ${a.status}`;
}
