/**
 * GET /openapi.json · GET /docs
 * The OpenAPI 3.1 document of every route (core/openapi.ts, generated from the route
 * definitions; the same text as the committed openapi/openapi.json), and a reference page that
 * renders it with no external assets (core/docs-page.ts). No token needed.
 * 200 application/json · 200 text/html · 404 `unknown_route` for other paths · 405 other methods.
 */
import { errorResponse, unknownRoute } from '../core/route.ts';
import { DomainError } from '../core/errors.ts';
import { openApiDocument } from '../core/openapi.ts';
import { DOCS_HTML } from '../core/docs-page.ts';
import { routeMetas } from './index.ts';

let text: string | undefined;

/** The document as served and committed: two-space JSON with a final newline. */
export function openApiText(): string {
  return (text ??= JSON.stringify(openApiDocument(routeMetas()), null, 2) + '\n'); // the routes are fixed at build time: render once
}

export default {
  fetch(req: Request): Response {
    const path = new URL(req.url).pathname;
    if (path !== '/openapi.json' && path !== '/docs') return errorResponse(unknownRoute(req.method, path));
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return errorResponse(new DomainError('method_not_allowed', `${path} takes GET, not ${req.method.slice(0, 20)}`, { allow: 'GET' }));
    }
    if (path === '/docs')
      return new Response(DOCS_HTML, {
        headers: { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'" },
      });
    return new Response(openApiText(), { headers: { 'content-type': 'application/json; charset=utf-8', 'access-control-allow-origin': '*' } });
  },
};
