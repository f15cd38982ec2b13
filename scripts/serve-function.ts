/**
 * The Node host of one function bundle: a node:http server around the bundle's web-standard
 * `fetch`, through @hono/node-server as the runner (`npm run build` bundles it, self-contained, to
 * dist/serve-function.mjs). Its light Request builds a full one only when asked for a body, and a
 * Response made from text is written in one piece with its length: ~0.4 ms per request less on
 * this project's machine than building a `Request` and streaming every answer.
 *
 *   HOST=127.0.0.1 PORT=9101 SRC_DB_URL=http://127.0.0.1:8081 SRC_CONFIG=/etc/src-api/facilities.json \
 *     node dist/serve-function.mjs dist/functions/get-users.js
 *
 * A route bundle checks its database first (`preflight`): without SRC_DB_URL, or with one that
 * does not answer, it prints one line naming the problem and exits 2 instead of listening.
 *
 * HOST (default 127.0.0.1), PORT (default 8080; 0 picks a free port), MAX_BODY_BYTES (default
 * 64 KiB, as the runner; larger request bodies get a 413 problem+json). It prints one line
 * `listening on http://HOST:PORT/ (<bundle>)` once it accepts connections, and stops on
 * SIGTERM/SIGINT after in-flight requests end (at most 10 s).
 *
 * Scheduled functions (the bundle also exports `scheduled`, e.g. the uptime job):
 *   node dist/serve-function.mjs --once dist/functions/uptime-job.js
 * fires it once, prints its result as JSON and exits (for a systemd timer or cron; the job's
 * lease keeps concurrent runs apart). SCHEDULE_EVERY_SECONDS=N additionally fires it every N
 * seconds from a serving host, never overlapping in this process.
 *
 * Runs on Deno too (`deno run <permissions> serve-function.mjs --once …`; Deno serves bundles
 * itself with `deno serve`).
 * @module
 */
import { createServer, type IncomingMessage } from 'node:http';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { getRequestListener } from '@hono/node-server';

/** What a function bundle exports. */
interface FunctionModule {
  fetch?: (req: Request) => Response | Promise<Response>;
  scheduled?: (event: { cron: string; scheduledTime: number }, env: unknown, ctx: { waitUntil(p: Promise<unknown>): void }) => unknown;
  preflight?: () => Promise<void>;
}

const args = process.argv.slice(2);
const once = args.includes('--once');
const file = args.find((a) => !a.startsWith('--'));
if (!file) {
  console.error('usage: node serve-function.mjs [--once] <bundle.js>   (HOST, PORT, MAX_BODY_BYTES, SCHEDULE_EVERY_SECONDS from the environment)');
  process.exit(2);
}
let mod: FunctionModule | undefined;
(globalThis as { __srcHostPreflight?: boolean }).__srcHostPreflight = true; // this host runs the bundle's preflight itself (below), on Node and Deno
try {
  mod = (await import(pathToFileURL(resolve(file)).href)).default;
} catch (e) {
  // e.g. an invalid configuration: its loader's message names the file, setting and rule
  console.error(`${file}: not starting: ${(e as Error)?.message ?? e}`);
  process.exit(2);
}
/** Fires the bundle's `scheduled` handler once, as a Workers-style scheduled event. */
async function fireScheduled(cron: string): Promise<unknown> {
  const pending: Promise<unknown>[] = [];
  const result = await mod?.scheduled?.({ cron, scheduledTime: Date.now() }, {}, { waitUntil: (p) => void pending.push(p) });
  await Promise.allSettled(pending);
  return result;
}

/** Runs the bundle's start-up check (its database answers); exits 2 with one line otherwise. */
async function preflight(): Promise<void> {
  if (typeof mod?.preflight !== 'function') return;
  try {
    await mod.preflight();
  } catch (e) {
    console.error(`${file}: not starting: ${(e as Error)?.message ?? e}`);
    process.exit(2);
  }
}

if (once) {
  if (typeof mod?.scheduled !== 'function') {
    console.error(`${file}: the default export has no scheduled(event) to fire`);
    process.exit(2);
  }
  await preflight();
  try {
    const result = await fireScheduled('once');
    if (result !== undefined) console.log(JSON.stringify(result));
    process.exit(0);
  } catch (e) {
    console.error('scheduled run failed:', e);
    process.exit(1);
  }
}
const host = process.env.HOST || '127.0.0.1';
const port = Number(process.env.PORT ?? 8080);
const maxBody = Number(process.env.MAX_BODY_BYTES || 64 * 1024);

const fetchFn = mod?.fetch;
if (!fetchFn) {
  console.error(`${file}: the default export has no fetch(request)`);
  process.exit(2);
}
// A route bundle without a usable database would answer 500 to every call: refuse to start.
await preflight();

/** problem+json like the API's own errors (for what the host itself refuses). */
function problem(status: number, code: string, title: string, detail: string): Response {
  return new Response(JSON.stringify({ type: `https://src-container-api.dev/errors/${code}`, title, status, code, detail }), {
    status,
    headers: { 'content-type': 'application/problem+json' },
  });
}

/** The request body, or null when it is larger than `maxBody` bytes. */
async function readBody(req: IncomingMessage): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > maxBody) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

// The request's `signal` aborts when the client hangs up before the answer is complete
// (@hono/node-server), so the function stops the Engine reads it started.
const api = getRequestListener(async (req) => {
  try {
    return await fetchFn(req);
  } catch (e) {
    console.error(`${req.method} ${new URL(req.url).pathname}:`, e);
    return problem(500, 'internal_error', 'Internal Server Error', 'Internal error; see the server log');
  }
});

const server = createServer(async (req, res) => {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    // bodies are read here, at most MAX_BODY_BYTES, and handed over whole (`rawBody`)
    const declared = Number(req.headers['content-length'] ?? 0);
    const body = declared > maxBody ? null : await readBody(req);
    if (body === null) {
      const r = problem(413, 'payload_too_large', 'Payload Too Large', `Request bodies are limited to ${maxBody} bytes`);
      res.writeHead(413, { 'content-type': 'application/problem+json', connection: 'close' }).end(await r.text());
      return;
    }
    (req as IncomingMessage & { rawBody?: Buffer }).rawBody = body;
  }
  await api(req, res);
});
server.keepAliveTimeout = 65_000; // longer than a proxy's idle upstream keep-alive

let timer: ReturnType<typeof setInterval> | undefined;
if (typeof mod?.scheduled === 'function' && process.env.SCHEDULE_EVERY_SECONDS) {
  const every = Number(process.env.SCHEDULE_EVERY_SECONDS);
  let running = false;
  timer = setInterval(async () => {
    if (running) return;
    running = true;
    try {
      await fireScheduled(`every ${every}s`);
    } catch (e) {
      console.error('scheduled run failed:', e);
    } finally {
      running = false;
    }
  }, every * 1000);
}

server.listen(port, host, () => {
  const a = server.address();
  if (a && typeof a === 'object') console.log(`listening on http://${a.address}:${a.port}/ (${file})`);
});

for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    clearInterval(timer);
    server.close(() => process.exit(0));
    server.closeIdleConnections?.();
    setTimeout(() => process.exit(0), 10_000).unref();
  });
}
