/**
 * The typed client of the SRC Container API: `openapi-fetch` over the types that
 * `npm run openapi` generates from the OpenAPI document (client/schema.d.ts), so a wrong route,
 * parameter or method does not compile, and answers are typed by status.
 *
 * @example
 * import { createSrcClient } from 'src-container-api/client';
 * const api = createSrcClient('http://127.0.0.1:8080', process.env.SRC_TOKEN);
 * const { data, error } = await api.POST('/{facility}/start-app', { params: { path: { facility: 'demo' }, query: { name: 'busybox--alice' } } });
 * if (error) console.error(error.code, error.detail); else console.log(data);
 *
 * @module
 */
import createClient, { type Client, type ClientOptions } from 'openapi-fetch';
import type { components, operations, paths } from './schema.d.ts';

export type { components, operations, paths };
/** The typed client: `GET`/`POST` on the document's paths. */
export type SrcClient = Client<paths>;
/** A problem+json error body. */
export type Problem = components['schemas']['Problem'];

/**
 * A client for the API at `baseUrl` (e.g. `http://127.0.0.1:8080`), sending `token` as the
 * bearer token (none when omitted). `options` go to openapi-fetch (e.g. `fetch` for an
 * in-process app, `headers` such as `X-On-Behalf-Of`).
 */
export function createSrcClient(baseUrl: string, token?: string | null, options: Omit<ClientOptions, 'baseUrl'> = {}): SrcClient {
  const headers = new Headers(options.headers as HeadersInit | undefined);
  if (token) headers.set('authorization', `Bearer ${token}`);
  return createClient<paths>({ ...options, baseUrl: baseUrl.replace(/\/+$/, ''), headers: Object.fromEntries(headers) });
}
