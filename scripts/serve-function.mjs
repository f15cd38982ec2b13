#!/usr/bin/env node
/**
 * The Node host of one function bundle: a tiny node:http server around the bundle's
 * web-standard `fetch` (no dependencies; `npm run build` copies it to dist/serve-function.mjs).
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
 * Runs on Deno too (`deno run <permissions> serve-function.mjs …`): it only uses node:http.
 */
import { createServer } from 'node:http';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const once = args.includes('--once');
const file = args.find((a) => !a.startsWith('--'));
if (!file) {
  console.error('usage: node serve-function.mjs [--once] <bundle.js>   (HOST, PORT, MAX_BODY_BYTES, SCHEDULE_EVERY_SECONDS from the environment)');
  process.exit(2);
}
let mod;
globalThis.__srcHostPreflight = true; // this host runs the bundle's preflight itself (below), on Node and Deno
try {
  mod = (await import(pathToFileURL(resolve(file)).href)).default;
} catch (e) {
  // e.g. an invalid configuration: its loader's message names the file, setting and rule
  console.error(`${file}: not starting: ${e?.message ?? e}`);
  process.exit(2);
}
/** Fires the bundle's `scheduled` handler once, as a Workers-style scheduled event. */
async function fireScheduled(cron) {
  const pending = [];
  const result = await mod.scheduled({ cron, scheduledTime: Date.now() }, {}, { waitUntil: (p) => pending.push(p) });
  await Promise.allSettled(pending);
  return result;
}

/** Runs the bundle's start-up check (its database answers); exits 2 with one line otherwise. */
async function preflight() {
  if (typeof mod?.preflight !== 'function') return;
  try {
    await mod.preflight();
  } catch (e) {
    console.error(`${file}: not starting: ${e?.message ?? e}`);
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

if (!mod || typeof mod.fetch !== 'function') {
  console.error(`${file}: the default export has no fetch(request)`);
  process.exit(2);
}
// A route bundle without a usable database would answer 500 to every call: refuse to start.
await preflight();

/** problem+json like the API's own errors (for what the host itself refuses). */
function problem(status, code, title, detail) {
  return new Response(JSON.stringify({ type: `https://src-container-api.dev/errors/${code}`, title, status, code, detail }), {
    status,
    headers: { 'content-type': 'application/problem+json' },
  });
}

async function readBody(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > maxBody) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/**
 * The web Request for a node:http request. Its `signal` aborts when the client hangs up before
 * the answer is complete, so the function stops the Engine reads it started.
 */
function toRequest(req, res, body) {
  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i], req.rawHeaders[i + 1]);
  const url = new URL(req.url ?? '/', `http://${req.headers.host || `${host}:${port}`}`);
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD' && body && body.length > 0;
  const hangup = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) hangup.abort(new Error('the client closed the connection'));
  });
  return new Request(url, { method: req.method, headers, body: hasBody ? body : undefined, signal: hangup.signal });
}

async function writeResponse(res, response, method) {
  const headers = {};
  response.headers.forEach((value, key) => {
    if (key !== 'set-cookie') headers[key] = value;
  });
  const cookies = response.headers.getSetCookie?.() ?? [];
  if (cookies.length) headers['set-cookie'] = cookies;
  res.writeHead(response.status, response.statusText || undefined, headers);
  if (!response.body || method === 'HEAD') {
    res.end();
    return;
  }
  for await (const chunk of response.body) {
    if (!res.write(chunk)) await new Promise((r) => res.once('drain', r));
  }
  res.end();
}

const server = createServer(async (req, res) => {
  let response;
  try {
    const declared = Number(req.headers['content-length'] ?? 0);
    const body = declared > maxBody ? null : await readBody(req);
    response = body === null ? problem(413, 'payload_too_large', 'Payload Too Large', `Request bodies are limited to ${maxBody} bytes`) : await mod.fetch(toRequest(req, res, body));
  } catch (e) {
    console.error(`${req.method} ${req.url}:`, e);
    response = problem(500, 'internal_error', 'Internal Server Error', 'Internal error; see the server log');
  }
  try {
    await writeResponse(res, response, req.method);
  } catch (e) {
    console.error(`${req.method} ${req.url}: writing the response failed:`, e);
    res.destroy();
  }
});
server.keepAliveTimeout = 65_000; // longer than a proxy's idle upstream keep-alive

let timer;
if (typeof mod.scheduled === 'function' && process.env.SCHEDULE_EVERY_SECONDS) {
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
  console.log(`listening on http://${a.address}:${a.port}/ (${file})`);
});

for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    clearInterval(timer);
    server.close(() => process.exit(0));
    server.closeIdleConnections?.();
    setTimeout(() => process.exit(0), 10_000).unref();
  });
}
