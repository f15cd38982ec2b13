/**
 * End-to-end helpers: build the bundles into a directory of the test's own (test files run in
 * parallel and must not share dist/), and call a deployment over real HTTP the way
 * test/helpers.ts `call()` calls the runner in-process.
 */
import { afterAll, afterEach } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildFunctions, type BuiltFunction } from '../../scripts/build.ts';
import type { LocalDeployment } from '../../scripts/local-deploy.ts';
import { ADMIN_TOKEN, callWith, removeUserApps, type Answer, type CallInit } from '../helpers.ts';
import { createSrcClient } from '../../client/index.ts';
import { checkingFetch, docPathOf, DOC } from '../openapi-check.ts';

/** Builds every function (or the `only` ones) into a fresh temporary directory. */
export async function buildForTest(only?: string[]): Promise<{ dist: string; functions: BuiltFunction[] }> {
  const dist = mkdtempSync(join(tmpdir(), 'src-e2e-build-'));
  const functions = await buildFunctions({ outdir: dist, quiet: true, only });
  return { dist, functions };
}

/**
 * Registers the file's teardown: on a failed test, the deployment's diagnostics; after the
 * file, `user`'s apps removed, the deployment stopped and its build deleted.
 * @param state what the file's `beforeAll` set up (read when the hooks run)
 */
export function useTeardown(user: string, state: () => { d?: LocalDeployment; dist?: string }): void {
  afterEach((ctx) => {
    const { d } = state();
    if (ctx.task.result?.state === 'fail' && d) console.error(d.diagnostics());
  });
  afterAll(async () => {
    const { d, dist } = state();
    await removeUserApps(user);
    await d?.stop();
    if (dist) rmSync(dist, { recursive: true, force: true });
  }, 60_000);
}

/**
 * `call()` over HTTP against `base` (a proxy or one function process): as the suite's admin
 * unless `init.token` says otherwise (`null`: no Authorization header).
 *
 * A call of a documented operation (`GET`/`POST` on `/{facility}/{route}`, `/`, `/openapi.json`,
 * `/docs`, no body, a plain facility ID) goes through the typed client (client/index.ts), and
 * its answer is checked against the OpenAPI document (test/openapi-check.ts): an undocumented
 * status, media type or field fails the test. The query string is sent exactly as written
 * (repeats and odd encodings included). Anything else (other methods, bodies, odd paths) is
 * sent raw, as the tests of refusals need; so are the proxy's own `function_unavailable`
 * answers (no replica answered), which no function gives and the document does not list.
 */
export async function httpCall(base: string, method: string, path: string, init: CallInit = {}): Promise<Answer> {
  const url = new URL(path, 'http://x');
  const docPath = docPathOf(url.pathname);
  const facility = /^\/([A-Za-z0-9_-]+)\/[a-z-]+$/.exec(url.pathname)?.[1];
  const documented = docPath && (method === 'GET' || method === 'POST') && DOC.paths[docPath][method.toLowerCase()] && init.body == null && (facility || !docPath.includes('{facility}'));
  if (!documented) return callWith((req) => fetch(req), base, method, path, init);
  const { headers, signal } = init;
  const token = new Headers(headers).has('authorization') ? null : init.token === undefined ? ADMIN_TOKEN : init.token;
  const check = checkingFetch(
    (req) => fetch(req),
    (_res, body) => (body as { code?: string })?.code !== 'function_unavailable',
  );
  const client = createSrcClient(base, token, { fetch: check, headers: Object.fromEntries(new Headers(headers)), querySerializer: () => url.search.slice(1) });
  const call = client[method as 'GET'] as (p: string, o: object) => Promise<{ data?: unknown; error?: unknown; response: Response }>;
  const r = await call(docPath, { params: { path: facility ? { facility } : {} }, parseAs: 'text', ...(signal ? { signal } : {}) });
  let body: any = r.error !== undefined ? r.error : r.data;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      /* plain text */
    }
  }
  return { status: r.response.status, body, headers: r.response.headers };
}

/** Runs the token CLI (scripts/token.ts) against a libSQL server; returns its stdout. */
export function tokenCli(dbUrl: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', 'scripts/token.ts', ...args], {
      env: { ...process.env, SRC_DB_URL: dbUrl },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`token ${args.join(' ')}: exit ${code}: ${err}`))));
  });
}
