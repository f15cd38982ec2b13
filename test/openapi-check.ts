/**
 * Checks real answers against the OpenAPI document (openapi/openapi.json): the status must be
 * documented for the operation, the media type too, and the body must validate against that
 * response's schema (JSON Schema 2020-12, ajv) — closed schemas refuse undocumented fields.
 */
import { readFileSync } from 'node:fs';
import Ajv2020 from 'ajv/dist/2020.js';

/** The committed document. */
export const DOC = JSON.parse(readFileSync(new URL('../openapi/openapi.json', import.meta.url), 'utf8'));

const ajv = new Ajv2020({ strict: false, allErrors: true });
for (const [name, schema] of Object.entries(DOC.components.schemas)) ajv.addSchema(schema as object, `#/components/schemas/${name}`);
const compiled = new Map<string, ReturnType<typeof ajv.compile>>();

/** Every (operation path, method, status) a check has seen, for coverage assertions. */
export const SEEN = new Set<string>();
/** Every error code a check has seen, per status. */
export const SEEN_CODES = new Set<string>();

/**
 * Throws unless `body` (parsed JSON or text) with `status` and `contentType` is a documented
 * answer of `method path` (a document path such as `/{facility}/start-app`).
 */
export function checkAnswer(path: string, method: string, status: number, contentType: string | null, body: unknown): void {
  const op = DOC.paths[path]?.[method.toLowerCase()];
  if (!op) throw new Error(`${method} ${path}: not in the document`);
  const res = op.responses[String(status)];
  if (!res) throw new Error(`${method} ${path}: status ${status} is not documented (${Object.keys(op.responses).join(', ')}); body ${JSON.stringify(body).slice(0, 500)}`);
  const media = (contentType ?? '').split(';')[0].trim();
  const content = res.content?.[media];
  if (!content) throw new Error(`${method} ${path} ${status}: media type ${media} is not documented (${Object.keys(res.content ?? {}).join(', ')})`);
  const key = `${path} ${method.toLowerCase()} ${status} ${media}`;
  let validate = compiled.get(key);
  if (!validate) compiled.set(key, (validate = ajv.compile(content.schema)));
  if (!validate(body)) {
    throw new Error(
      `${method} ${path} ${status}: answer does not match the document: ${ajv.errorsText(validate.errors, { separator: '; ' }).slice(0, 1500)}\nbody: ${JSON.stringify(body).slice(0, 1500)}`,
    );
  }
  SEEN.add(`${method.toLowerCase()} ${path} ${status}`);
  if (body && typeof body === 'object' && 'code' in body && media === 'application/problem+json') SEEN_CODES.add(String((body as { code: unknown }).code));
}

/**
 * A fetch that checks every answer against the document before handing it back (for the typed
 * client); `when(res, body)` may exempt an answer (default: every answer is checked).
 */
export function checkingFetch(inner: (req: Request) => Response | Promise<Response>, when: (res: Response, body: unknown) => boolean = () => true): (input: Request) => Promise<Response> {
  return async (req: Request) => {
    const res = await inner(req);
    const path = docPathOf(new URL(req.url).pathname);
    const text = await res.clone().text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      /* text */
    }
    if (path && req.method !== 'HEAD' && when(res, body)) checkAnswer(path, req.method, res.status, res.headers.get('content-type'), body);
    return res;
  };
}

/** The document path a request path answers to: `/demo/start-app` -> `/{facility}/start-app`. */
export function docPathOf(pathname: string): string | undefined {
  if (DOC.paths[pathname]) return pathname;
  const m = pathname.match(/^\/[^/]+\/([a-z-]+)$/);
  return m && DOC.paths[`/{facility}/${m[1]}`] ? `/{facility}/${m[1]}` : undefined;
}
