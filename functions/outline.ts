/**
 * GET /
 * A plaintext outline of every endpoint (method, path, parameters, modes), as the spec says.
 * 200 text/plain.
 */
import { errorResponse, unknownRoute, type RouteMeta } from '../core/route.ts';
import { DomainError } from '../core/errors.ts';
import { routeMetas } from './index.ts';

/** Renders the outline for `metas`. */
export function outline(metas: RouteMeta[]): string {
  const lines = ['SRC Container API', '', 'Every route is /{facility}/{route}; errors are application/problem+json.', ''];
  for (const m of metas) {
    const params = Object.entries(m.query)
      .map(([k, p]) => (p.required ? `${k}=` : `[${k}=]`))
      .join('&');
    lines.push(`${m.method.padEnd(5)} /{facility}/${m.route}${params ? '?' + params : ''}`);
    lines.push(`      ${m.summary} (${m.modes.join(', ')} mode)`);
    for (const [k, p] of Object.entries(m.query)) lines.push(`      ${k}: ${p.doc}${p.required ? '' : ' (optional)'}`);
  }
  return lines.join('\n') + '\n';
}

let text: string | undefined;

export default {
  fetch(req: Request): Response {
    const url = new URL(req.url);
    // Deployed alone, this function is also the proxy's catch-all: the runner's 404 problem.
    if (url.pathname !== '/') return errorResponse(unknownRoute(req.method, url.pathname));
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return errorResponse(new DomainError('method_not_allowed', `/ takes GET, not ${req.method.slice(0, 20)}`, { allow: 'GET' }));
    }
    text ??= outline(routeMetas()); // the routes are fixed at build time: render once
    return new Response(text, { headers: { 'content-type': 'text/plain; charset=utf-8' } });
  },
};
