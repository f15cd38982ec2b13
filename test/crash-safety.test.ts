/**
 * Crash safety (issue 12): the runner killed with SIGKILL during concurrent hard resets leaves
 * nothing unrecoverable (core/reset-recovery.ts finishes or rolls back every leftover), and
 * during concurrent creates leaves no container without an audit entry (the intent is
 * recorded, `pending`, before the action). Each state a crash between two reset steps leaves
 * is also built by hand and recovered.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import pMap from 'p-map';
import { afterAll, describe, expect, it } from 'vitest';
import { queryAudit } from '../core/audit.ts';
import { getFacility } from '../core/facility.ts';
import { LABELS } from '../core/naming.ts';
import { RESET_START_LABEL, recoverResets } from '../core/reset-recovery.ts';
import { maintainFacilities } from '../core/maintenance.ts';
import { ensureUserNetwork, userNetworkName } from '../core/user-network.ts';
import { ADMIN_TOKEN, call, createApp, engine, IMAGES, removeUserApps, uniqueUser } from './helpers.ts';

const ROOT = resolve(import.meta.dirname, '..');
const resetUser = uniqueUser('cr');
const handUser = uniqueUser('ch');
const createUsers = Array.from({ length: 30 }, (_, i) => uniqueUser(`cc${i}`));

const resetUsers = Array.from({ length: 14 }, (_, i) => `${resetUser}x${i}`);

afterAll(() => removeUserApps(resetUser, handUser, ...resetUsers, ...createUsers), 120_000);

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** Starts the runner in one Node process (so SIGKILL really kills the server) and waits until it listens. */
async function startRunner(): Promise<{ child: ChildProcess; base: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'wrangler-local/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), SRC_UPTIME_CRON: 'off', SRC_RATE_LIMIT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  await new Promise<void>((ok, fail) => {
    const t = setTimeout(() => fail(new Error(`runner did not start: ${out}`)), 60_000);
    const seen = (b: Buffer) => {
      out += b;
      if (/listening on/.test(out)) clearTimeout(t), ok();
    };
    child.stdout!.on('data', seen);
    child.stderr!.on('data', seen);
  });
  return { child, base: `http://127.0.0.1:${port}` };
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await gone;
}

/** Waits until `cond()` holds (polls every 10 ms, at most `ms`). */
async function until(cond: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const post = (base: string, path: string) => fetch(base + path, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }).catch(() => undefined);

describe('hard reset: SIGKILL of the server mid-way, then recovery', () => {
  it('28 concurrent hard resets killed: after recovery every app exists by its name, running, with no NAME.reset-… left', async () => {
    const images = [IMAGES.busybox, IMAGES.httpd];
    const users = resetUsers;
    const apps = await pMap(
      users.flatMap((u) => images.map((img) => [img, u] as const)),
      async ([img, u]) => {
        const a = await createApp(img, u, 'crash');
        const started = await call('POST', `/crash/start-app?name=${a.name}`);
        expect(started.status, JSON.stringify(started.body)).toBe(200);
        return a.name as string;
      },
      { concurrency: 6 },
    );
    expect(apps).toHaveLength(28);
    const f = getFacility('crash');
    const resets = async () => (await engine.listContainers({ all: true, filters: { label: [`${LABELS.facility}=crash`] } })).filter((c) => /\.reset-/.test(c.Names?.[0] ?? ''));
    const { child, base } = await startRunner();
    try {
      for (const name of apps) void post(base, `/crash/hard-reset-app?name=${name}`);
      await until(async () => (await resets()).length > 0);
    } finally {
      await kill(child);
    }
    // Engine calls the dead server had sent may still run in the Engine: wait until its containers stop changing
    const snapshot = async () => JSON.stringify((await engine.listContainers({ all: true, filters: { label: [`${LABELS.facility}=crash`] } })).map((c) => [c.Id, c.Names, c.State]).sort());
    for (let prev = '', i = 0; i < 100; i++) {
      const now = await snapshot();
      if (now === prev) break;
      prev = now;
      await new Promise((r) => setTimeout(r, 500));
    }
    const leftovers = (await resets()).filter((c) => apps.includes(c.Labels[LABELS.app]));
    expect(leftovers.length).toBeGreaterThan(0); // the kill did interrupt resets
    const report = await recoverResets(f, 0); // the server is dead: every replacement is a leftover
    expect(report.failed).toEqual([]);
    expect(report.finished.length + report.rolledBack.length).toBeGreaterThanOrEqual(new Set(leftovers.map((c) => c.Labels[LABELS.app])).size);
    const after = await engine.listContainers({ all: true, filters: { label: [`${LABELS.facility}=crash`] } });
    for (const name of apps) {
      const mine = after.filter((c) => c.Labels[LABELS.app] === name);
      expect(
        mine.map((c) => c.Names[0]),
        name,
      ).toEqual([`/${name}`]);
      expect(mine[0].State, `${name} ${JSON.stringify(mine[0].Labels)} ${JSON.stringify(report)}`).toBe('running');
    }
    await removeUserApps(...users);
  }, 240_000);
});

describe('each state a crash between two reset steps leaves', () => {
  const f = () => getFacility('crash');
  const old = (ms: number) => `${(Date.now() - ms).toString(36)}-abcd`;

  /** A replacement of app `name` as the reset makes it: same labels, `NAME.reset-<time>-<hex>`. */
  async function replacement(name: string, suffix: string, start: boolean): Promise<string> {
    const c = await engine.inspectContainer(name);
    const labels = { ...c.Config.Labels, ...(start ? { [RESET_START_LABEL]: '1' } : {}) };
    return (await engine.createContainer(`${name}.reset-${suffix}`, { Image: c.Config.Image, Labels: labels, HostConfig: { NetworkMode: c.HostConfig.NetworkMode } })).Id;
  }

  it('old container and replacement: rolled back (the replacement removed, the app untouched)', async () => {
    const a = await createApp(IMAGES.busybox, handUser, 'crash');
    const extra = await replacement(a.name, old(11 * 60_000), true);
    const r = await recoverResets(f());
    expect(r.rolledBack).toContain(a.name);
    expect(await engine.inspectContainer(extra).catch((e) => e.statusCode)).toBe(404);
    expect((await engine.inspectContainer(a.name)).Id).toBe(a.id);
  });

  it('only the replacement: finished (renamed to the app, started since the old one ran)', async () => {
    const a = await createApp(IMAGES.httpd, handUser, 'crash');
    await call('POST', `/crash/start-app?name=${a.name}`);
    const extra = await replacement(a.name, old(11 * 60_000), true);
    await engine.removeContainer(a.id, { force: true });
    expect((await call('GET', `/crash/get-app-info?name=${a.name}`)).status).toBe(404); // what users saw before the fix
    const r = await recoverResets(f());
    expect(r.finished).toContain(a.name);
    const now = await engine.inspectContainer(a.name);
    expect([now.Id, now.State.Status]).toEqual([extra, 'running']);
    expect((await call('GET', `/crash/get-app-info?name=${a.name}`)).status).toBe(200);
  });

  it('renamed but never started although the old one ran: started', async () => {
    const name = `httpd--${handUser}`;
    const c = await engine.inspectContainer(name);
    await engine.removeContainer(c.Id, { force: true });
    const id = (await engine.createContainer(name, { Image: c.Config.Image, Labels: { ...c.Config.Labels, [RESET_START_LABEL]: '1' }, HostConfig: { NetworkMode: c.HostConfig.NetworkMode } })).Id;
    const r = await recoverResets(f());
    expect(r.finished).toContain(name);
    expect((await engine.inspectContainer(id)).State.Status).toBe('running');
  });

  it('a replacement younger than the grace period (a reset still running elsewhere) is left alone', async () => {
    const name = `busybox--${handUser}`;
    const young = await replacement(name, old(1000), false);
    const r = await recoverResets(f());
    expect(r.rolledBack).not.toContain(name);
    expect((await engine.inspectContainer(young)).Id).toBe(young);
    await engine.removeContainer(young, { force: true });
  });
});

describe('audit: the intent before the action', () => {
  it('30 concurrent creates killed by SIGKILL: every container created has an audit entry (pending or done)', async () => {
    const { child, base } = await startRunner();
    try {
      for (const u of createUsers) void post(base, `/crash/create-app?image=${IMAGES.busybox}&user=${u}`);
      // kill as soon as the first container exists: the others are mid-way
      await until(async () => (await engine.listContainers({ all: true, filters: { label: [`${LABELS.facility}=crash`] } })).some((c) => createUsers.includes(c.Labels[LABELS.user])));
    } finally {
      await kill(child);
    }
    let containers = 0;
    for (const u of createUsers) {
      const mine = await engine.listContainers({ all: true, filters: { label: [`${LABELS.facility}=crash`, `${LABELS.user}=${u}`] } });
      const entries = await queryAudit({ facility: 'crash', user: u, route: 'create-app' });
      containers += mine.length;
      if (mine.length) expect(entries.length, `${u}: a container without an audit entry`).toBeGreaterThan(0);
      for (const e of entries) expect(['ok', 'pending', 'app_exists']).toContain(e.result);
    }
    // the run is only meaningful when the kill left some creates done and maybe some pending
    expect(containers).toBeGreaterThan(0);
    const pending = (await Promise.all(createUsers.map((u) => queryAudit({ facility: 'crash', user: u, route: 'create-app' })))).flat().filter((e) => e.result === 'pending');
    for (const e of pending) expect(e.status).toBe(0);
  }, 120_000);
});

describe('maintenance (runner start, after each uptime job)', () => {
  it('removes a user network whose user has no app left, and keeps those of users with apps', async () => {
    const f = getFacility('crash');
    const lonely = uniqueUser('cn');
    await ensureUserNetwork(f, lonely, 'solo'); // what a crash between the last delete and the release leaves
    const a = await createApp(IMAGES.busybox, handUser, 'crash').catch(() => undefined);
    const report = await maintainFacilities({ facilities: ['crash'], networkGraceMs: 0 }); // this file's facility only: others' creates are under way
    expect(report.crash?.networksRemoved).toContain(userNetworkName('crash', lonely));
    expect(await engine.inspectNetwork(userNetworkName('crash', lonely)).catch((e) => e.statusCode)).toBe(404);
    expect((await engine.inspectNetwork(userNetworkName('crash', handUser))).Name).toBe(userNetworkName('crash', handUser));
    if (a) await call('POST', `/crash/delete-app?name=${a.name}`);
  });
});
