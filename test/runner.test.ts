import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '../scripts/local-deploy.ts';
import { buildApp, MAX_URL_LENGTH } from '../wrangler-local/app.ts';
import { ADMIN_TOKEN } from './helpers.ts';


describe('runner limits (in-process)', () => {
  const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

  it('an oversized URL gets a 414 problem+json', async () => {
    const app = buildApp({ log: false });
    const res = await app.fetch(new Request(`http://x/demo/get-app-names?user=${'a'.repeat(MAX_URL_LENGTH)}`, { headers: auth }));
    expect(res.status).toBe(414);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect((await res.json()).code).toBe('payload_too_large');
  });

  it('an oversized body gets a 413 problem+json', async () => {
    const app = buildApp({ log: false });
    const res = await app.fetch(new Request('http://x/demo/start-app?name=a--b', { method: 'POST', headers: { ...auth, 'content-length': String(1 << 20) }, body: 'x'.repeat(1 << 20) }));
    expect(res.status).toBe(413);
    expect((await res.json()).code).toBe('payload_too_large');
  });

  it('rate-limits per token with 429 problem+json and RateLimit headers', async () => {
    const app = buildApp({ log: false, rateLimit: 3 });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await app.fetch(new Request('http://x/demo/get-node-names', { headers: auth }))).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const other = await app.fetch(new Request('http://x/demo/get-node-names', { headers: { authorization: 'Bearer src_otherxxxxxxx_' + 'b'.repeat(43) } }));
    expect(other.status).toBe(401); // another token has its own budget
    // knowing a token's ID (shown in listings and the audit log) does not spend its budget
    const id = ADMIN_TOKEN.split('_')[1];
    const fresh = buildApp({ log: false, rateLimit: 2 });
    for (let i = 0; i < 3; i++) await fresh.fetch(new Request('http://x/demo/get-node-names', { headers: { authorization: `Bearer src_${id}_${'z'.repeat(43)}` } }));
    expect((await fresh.fetch(new Request('http://x/demo/get-node-names', { headers: auth }))).status).toBe(200);
    const limited = await app.fetch(new Request('http://x/demo/get-node-names', { headers: auth }));
    expect(limited.headers.get('ratelimit-limit')).toBe('3');
    expect((await limited.json()).code).toBe('rate_limited');
  });
});

describe('npm start (the runner process)', () => {
  let proc: ChildProcess;
  let base: string;
  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    // its own process group, so afterAll ends the runner itself, not only a wrapper
    proc = spawn(process.execPath, ['--import', 'tsx', 'wrangler-local/main.ts'], {
      env: { ...process.env, PORT: String(port), SRC_UPTIME_CRON: 'off' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let log = '';
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`runner did not start: ${log}`)), 30_000);
      proc.stdout!.on('data', (d) => {
        log += d;
        if (log.includes('listening')) (clearTimeout(t), resolve());
      });
      proc.stderr!.on('data', (d) => (log += d));
    });
  });
  afterAll(async () => {
    if (!proc?.pid) return;
    const exited = new Promise((r) => proc.once('exit', r));
    process.kill(-proc.pid, 'SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    if (proc.exitCode === null && proc.signalCode === null) process.kill(-proc.pid, 'SIGKILL');
  });

  it('serves the outline and routes, with a request log', async () => {
    expect((await fetch(`${base}/`)).status).toBe(200);
    const r = await fetch(`${base}/demo/get-node-names`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(r.status).toBe(200);
  });

  it('oversized headers get a 431 problem+json, not an empty reply', async () => {
    const r = await fetch(`${base}/demo/get-node-names`, { headers: { 'x-big': 'x'.repeat(20_000) } });
    expect(r.status).toBe(431);
    expect(r.headers.get('content-type')).toBe('application/problem+json');
    expect((await r.json()).code).toBe('payload_too_large');
  });
});
