/**
 * A client that hangs up mid-read stops the Engine work it started: through the runner
 * (`npm start`, @hono/node-server), a Node bundle (scripts/serve-function.mjs) and a Deno bundle
 * (`deno serve`). The facility's Engine here is one this test runs on a Unix socket of its
 * own: it answers `GET /version` and holds every other request open, recording when the API
 * closes the connection. Its timeout is 60 s, so only the client's hang-up can close it sooner.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, request, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, startLocalDeployment, type LocalDeployment } from '../../scripts/local-deploy.ts';
import { ADMIN_TOKEN } from '../helpers.ts';
import { buildForTest } from './support.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'src-cancel-'));
const sock = join(dir, 'engine.sock');
const configPath = join(dir, 'facilities.json');

/** Requests the held Engine got, by a tag the test puts in the user filter, and whether each was closed. */
const held = new Map<string, { closed: boolean }>();
/** How many times each tag's request reached the Engine (a replayed read would count twice). */
const sent = new Map<string, number>();
let engineServer: Server;
let runner: ChildProcess | undefined;
let runnerBase = '';
let d: LocalDeployment | undefined;
let dist: string | undefined;

beforeAll(async () => {
  engineServer = createServer((req, res) => {
    if (/\/version$/.test(req.url ?? '')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ApiVersion: '1.41', MinAPIVersion: '1.12', Version: '20.10.0-held' }));
      return;
    }
    // hold it: never answer; record the moment the client (our API) closes the connection
    const tag = decodeURIComponent(req.url ?? '').match(/io\.src-container-api\.user=([a-z0-9]+)/)?.[1] ?? req.url ?? '';
    const entry = { closed: false };
    held.set(tag, entry);
    sent.set(tag, (sent.get(tag) ?? 0) + 1);
    req.socket.once('close', () => (entry.closed = true));
  });
  await new Promise<void>((r) => engineServer.listen(sock, r));
  writeFileSync(configPath, JSON.stringify({ facilities: { held: { mode: 'solo', engine: { host: `unix://${sock}`, timeoutMs: 60_000 }, images: { approved: ['docker.io/src-test/*'] } } } }));

  // the runner, as `npm start` runs it
  const port = await freePort();
  runner = spawn(process.execPath, ['--import', 'tsx', 'wrangler-local/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), SRC_CONFIG: configPath, SRC_DATA_DIR: join(dir, 'data'), SRC_ADMIN_TOKEN: ADMIN_TOKEN, SRC_RATE_LIMIT: '0', SRC_UPTIME_CRON: 'off' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  await new Promise<void>((res, rej) => {
    const t = setTimeout(() => rej(new Error(`runner did not start: ${log}`)), 60_000);
    runner!.stdout!.on('data', (b) => {
      log += b;
      if (log.includes('listening')) clearTimeout(t), res();
    });
    runner!.stderr!.on('data', (b) => (log += b));
    runner!.once('exit', (code) => rej(new Error(`runner exited (${code}): ${log}`)));
  });
  runnerBase = `http://127.0.0.1:${port}`;

  // one bundle on Node (serve-function.mjs) and one on Deno (deno serve), no proxy
  ({ dist } = await buildForTest(['get-app-names']));
  d = await startLocalDeployment({ dist, nginx: false, config: configPath, functions: { 'get-app-names': ['node', 'deno'] }, env: { SRC_ADMIN_TOKEN: ADMIN_TOKEN } });
}, 240_000);

afterAll(async () => {
  runner?.kill('SIGTERM');
  await d?.stop();
  if (dist) rmSync(dist, { recursive: true, force: true });
  await new Promise((r) => engineServer?.close(r));
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

/** Polls `cond` every 50 ms for up to `ms`; whether it became true. */
async function eventually(cond: () => boolean, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) if (cond()) return true;
  return cond();
}

/**
 * Sends `GET /held/get-app-names?user=TAG` to `base`, waits until the held Engine has the list
 * request it caused, hangs up, and answers whether the Engine saw that connection closed.
 */
async function hangUpMidRead(base: string, tag: string): Promise<{ reached: boolean; closed: boolean; sentOnce: boolean }> {
  const req = request(`${base}/held/get-app-names?user=${tag}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  req.on('error', () => undefined); // we destroy it ourselves
  req.end();
  const reached = await eventually(() => held.has(tag), 20_000);
  req.destroy();
  const closed = reached && (await eventually(() => held.get(tag)!.closed, 10_000));
  await new Promise((r) => setTimeout(r, 300)); // time for a replay of the read to arrive, if one were sent
  return { reached, closed, sentOnce: sent.get(tag) === 1 };
}

describe('a client that hangs up mid-read', () => {
  it('through the runner: the Engine read it started is cancelled', async () => {
    expect(await hangUpMidRead(runnerBase, 'runnerhangup')).toEqual({ reached: true, closed: true, sentOnce: true });
  });

  it('through a Node bundle (serve-function.mjs): the Engine read is cancelled', async () => {
    expect(await hangUpMidRead(d!.direct('get-app-names', 1), 'nodehangup')).toEqual({ reached: true, closed: true, sentOnce: true });
  });

  it('through a Deno bundle (deno serve): the Engine read is cancelled', async () => {
    expect(await hangUpMidRead(d!.direct('get-app-names', 2), 'denohangup')).toEqual({ reached: true, closed: true, sentOnce: true });
  });

  it('a client that stays: the read is held (not closed) until the Engine answers or the timeout', async () => {
    const controller = new AbortController();
    const p = fetch(`${runnerBase}/held/get-app-names?user=staying`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, signal: controller.signal }).catch(() => undefined);
    expect(await eventually(() => held.has('staying'), 20_000)).toBe(true);
    await new Promise((r) => setTimeout(r, 1000));
    expect(held.get('staying')!.closed).toBe(false);
    controller.abort();
    await p;
    expect(await eventually(() => held.get('staying')!.closed, 10_000)).toBe(true);
  });
});
