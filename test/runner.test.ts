/**
 * `npm start`: the runner process serves the outline and the routes (on the real Engine), and
 * answers oversized headers itself. Its in-process limits are in runner-limits.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '../scripts/local-deploy.ts';
import { ADMIN_TOKEN } from './helpers.ts';

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
        if (log.includes('listening')) clearTimeout(t), resolve();
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
