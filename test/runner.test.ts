/**
 * `npm start`: the runner process, bundled as `npm start` builds it (scripts/build.ts
 * `buildRunner`), serves the outline and the routes (on the real Engine), and
 * answers oversized headers itself. Its in-process limits are in runner-limits.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { buildRunner } from '../scripts/build.ts';
import { freePort } from '../scripts/local-deploy.ts';
import { ADMIN_TOKEN, removeUserApps, uniqueUser } from './helpers.ts';

describe('npm start (the runner process)', () => {
  let proc: ChildProcess;
  let log = '';
  let base: string;
  let bundle = '';
  beforeAll(async () => {
    bundle = await buildRunner(`.tmp/runner-test-${process.pid}`);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    // its own process group, so afterAll ends the runner itself, not only a wrapper
    proc = spawn(process.execPath, [bundle], {
      env: { ...process.env, PORT: String(port), SRC_UPTIME_CRON: 'off', SRC_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`runner did not start: ${log}`)), 30_000);
      proc.stdout!.on('data', (d) => {
        log += d;
        if (log.includes('listening')) clearTimeout(t), resolve();
      });
      proc.stderr!.on('data', (d) => (log += d));
    });
  });
  afterAll(async () => {
    if (bundle) rmSync(dirname(bundle), { recursive: true, force: true });
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
    const id = r.headers.get('x-request-id');
    // one JSON line for it on stdout (not a terminal: JSON), without the token
    for (let i = 0; i < 50 && !log.includes(id!); i++) await new Promise((res) => setTimeout(res, 20));
    const line = log.split('\n').find((l) => l.includes(id!))!;
    expect(JSON.parse(line)).toMatchObject({ level: 'INFO', logger: 'src.http', properties: { requestId: id, route: 'get-node-names', facility: 'demo', status: 200, role: 'admin' } });
    expect(log).not.toContain(ADMIN_TOKEN);
  });

  it('follows an app log over HTTP (curl -N) until the client leaves', async () => {
    const user = uniqueUser('rl');
    const name = `busybox--${user}`;
    const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
    try {
      expect((await fetch(`${base}/demo/create-app?image=src-test/busybox&user=${user}`, { method: 'POST', headers: auth })).status).toBe(201);
      expect((await fetch(`${base}/demo/start-app?name=${name}`, { method: 'POST', headers: auth })).status).toBe(200);
      const curl = spawn('curl', ['-sN', '-H', `Authorization: Bearer ${ADMIN_TOKEN}`, `${base}/demo/get-app-logs?name=${name}&follow=true`]);
      let out = '';
      curl.stdout.on('data', (b) => (out += b));
      for (let i = 0; i < 100 && !out.includes('streaming'); i++) await new Promise((res) => setTimeout(res, 50));
      // a line written by the app's main process while the stream is open arrives at once
      execFileSync('docker', ['exec', name, 'sh', '-c', 'echo hello-live > /proc/1/fd/1']);
      for (let i = 0; i < 100 && !out.includes('hello-live'); i++) await new Promise((res) => setTimeout(res, 50));
      expect(out).toContain('event: log\ndata: {"stream":"stdout","line":"hello-live"}\n\n');
      curl.kill('SIGTERM');
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
    } finally {
      await removeUserApps(user);
    }
  });

  it('oversized headers get a 431 problem+json, not an empty reply', async () => {
    const r = await fetch(`${base}/demo/get-node-names`, { headers: { 'x-big': 'x'.repeat(20_000) } });
    expect(r.status).toBe(431);
    expect(r.headers.get('content-type')).toBe('application/problem+json');
    expect((await r.json()).code).toBe('payload_too_large');
  });
});
