/**
 * Backup and restore of the database (scripts/backup-db.ts, `npm run backup` / `npm run
 * restore`), for the embedded file and for sqld: a runner with an app, tokens, a denial, image
 * requests and uptime history (its job every second) is backed up while requests keep writing;
 * the backup is restored into a fresh database and a fresh runner serves it. That runner
 * accepts the tokens minted before, and answers get-image-requests, get-audit-log and
 * get-uptime-summary as the original did up to the backup: everything recorded before the
 * backup began is there, unchanged, and nothing that was not in the original.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, sqldBinary } from '../scripts/local-deploy.ts';
import { ADMIN_TOKEN, removeUserApps, uniqueUser } from './helpers.ts';
import { httpCall, tokenCli } from './e2e/support.ts';

const procs: ChildProcess[] = [];
const dirs: string[] = [];
const users: string[] = [];

afterAll(async () => {
  for (const p of procs) if (p.pid && p.exitCode === null) process.kill(-p.pid, 'SIGKILL');
  await removeUserApps(...users);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function start(cmd: string, args: string[], env: Record<string, string>, ready: (out: string) => boolean): Promise<ChildProcess> {
  const p = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  procs.push(p);
  let out = '';
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${cmd} did not start: ${out}`)), 30_000);
    const on = (d: Buffer) => {
      out += d;
      if (ready(out)) clearTimeout(t), resolve(p);
    };
    p.stdout!.on('data', on);
    p.stderr!.on('data', on);
    p.once('exit', (code) => reject(new Error(`${cmd} exited ${code}: ${out}`)));
    if (ready('')) clearTimeout(t), resolve(p);
  });
}

async function stop(p: ChildProcess): Promise<void> {
  if (!p.pid || p.exitCode !== null) return;
  const exited = new Promise((r) => p.once('exit', r));
  process.kill(-p.pid, 'SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
}

async function runner(env: Record<string, string>): Promise<{ base: string; proc: ChildProcess }> {
  const port = await freePort();
  const proc = await start(process.execPath, ['--import', 'tsx', 'wrangler-local/main.ts'], { PORT: String(port), SRC_RATE_LIMIT: '0', SRC_ADMIN_TOKEN: ADMIN_TOKEN, ...env }, (o) =>
    o.includes('listening'),
  );
  return { base: `http://127.0.0.1:${port}`, proc };
}

async function sqld(dir: string): Promise<string> {
  const [http, grpc] = [await freePort(), await freePort()];
  await start(sqldBinary(), ['--db-path', dir, '--http-listen-addr', `127.0.0.1:${http}`, '--grpc-listen-addr', `127.0.0.1:${grpc}`, '--no-welcome'], { RUST_LOG: 'warn' }, () => true);
  const url = `http://127.0.0.1:${http}`;
  for (let i = 0; i < 100; i++) {
    if (
      await fetch(`${url}/health`)
        .then((r) => r.ok)
        .catch(() => false)
    )
      return url;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('sqld did not answer');
}

function cli(args: string[], env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', 'scripts/backup-db.ts', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    p.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`backup-db ${args.join(' ')}: exit ${code}: ${out}`))));
  });
}

describe.each(['file', 'sqld'] as const)('backup and restore (%s)', (kind) => {
  it('a backup taken under load restores into a runner that answers the same', async () => {
    const dir = mkdtempSync(join(tmpdir(), `src-backup-${kind}-`));
    dirs.push(dir);
    const user = uniqueUser('bk');
    users.push(user);
    const app = `busybox--${user}`;
    const [dbA, dbB] = kind === 'file' ? [`file:${dir}/a/src.db`, `file:${dir}/b/src.db`] : [await sqld(join(dir, 'sqld-a')), await sqld(join(dir, 'sqld-b'))];

    // --- the original runner, its uptime job every second
    const a = await runner({ SRC_DATA_DIR: join(dir, 'a'), SRC_DB_URL: dbA, SRC_UPTIME_CRON: '* * * * * *' });
    const A = (method: string, path: string, token: string | null = ADMIN_TOKEN) => httpCall(a.base, method, path, { token });
    expect((await A('POST', `/demo/create-app?image=src-test/busybox&user=${user}`)).status).toBe(201);
    expect((await A('POST', `/demo/start-app?name=${app}`)).status).toBe(200);
    const userToken = JSON.parse(await tokenCli(dbA, ['mint', '--user', user, '--json'])).token as string;
    const adminToken = JSON.parse(await tokenCli(dbA, ['mint', '--admin', '--name', `bk-${user}`, '--json'])).token as string;
    expect((await A('POST', `/demo/deny-image?image=xterm-${user}:9&reason=not%20here`)).status).toBe(200);
    expect((await A('POST', `/demo/request-image?image=loadtest/${user}-first`, userToken)).status).toBe(202);
    for (let i = 0; i < 100; i++) {
      const s = await A('GET', `/demo/get-uptime-summary?name=${app}&duration=hour`);
      if (s.status === 200 && Object.keys(s.body).length >= 2) break;
      await new Promise((r) => setTimeout(r, 200));
    }

    // --- load: image requests (each one new: records never change afterwards) and reads
    let loading = true;
    let made = 0;
    const load = (async () => {
      while (loading) {
        const r = await A('POST', `/demo/request-image?image=loadtest/${user}-${made++}`, userToken);
        expect(r.status).toBe(202);
        await A('GET', '/demo/get-audit-log?limit=5');
        await new Promise((res) => setTimeout(res, 10));
      }
    })();
    await new Promise((r) => setTimeout(r, 300));
    const backupStarted = new Date().toISOString();
    const file = join(dir, 'backup.db');
    const out = await cli(['backup', '--out', file, '--db', dbA], {});
    expect(out).toMatch(/integrity ok/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    await new Promise((r) => setTimeout(r, 300));
    loading = false;
    await load;
    expect(made).toBeGreaterThan(5);

    // what the original answers now
    const reqsA = await A('GET', '/demo/get-image-requests?limit=1000');
    const auditA = await A('GET', '/demo/get-audit-log?limit=1000');
    const uptimeA = await A('GET', `/demo/get-uptime-summary?name=${app}&duration=hour`);
    await stop(a.proc);

    // --- restore into a fresh database; a fresh runner serves it
    await expect(cli(['restore', file, '--db', dbA], {})).rejects.toThrow(/not empty/);
    expect(await cli(['restore', file, '--db', dbB], {})).toMatch(/restored/);
    const b = await runner({ SRC_DATA_DIR: join(dir, 'b'), SRC_DB_URL: dbB, SRC_UPTIME_CRON: 'off' });
    const B = (method: string, path: string, token: string | null = ADMIN_TOKEN) => httpCall(b.base, method, path, { token });

    // tokens minted before the backup
    expect((await B('GET', `/demo/get-app-names?user=${user}`, userToken)).body).toEqual([app]);
    expect((await B('GET', '/demo/get-users', adminToken)).status).toBe(200);
    // the denial (an approval decision)
    const denied = await B('GET', `/demo/get-image-requests?image=xterm-${user}:9`);
    expect([denied.body].flat()[0]).toMatchObject({ state: 'denied', reason: 'not here' });

    const reqsB = await B('GET', '/demo/get-image-requests?limit=1000');
    const auditB = await B('GET', '/demo/get-audit-log?limit=1000');
    const uptimeB = await B('GET', `/demo/get-uptime-summary?name=${app}&duration=hour`);
    await stop(b.proc);

    const asSet = (xs: unknown[]) => new Set(xs.map((x) => JSON.stringify(x)));
    // image requests: the restored ones are the original's, unchanged; all from before the backup are there
    const origReqs = asSet(reqsA.body);
    for (const r of reqsB.body) expect(origReqs.has(JSON.stringify(r)), JSON.stringify(r)).toBe(true);
    const restoredRefs = new Set(reqsB.body.map((r: any) => JSON.stringify(r)));
    const before = (reqsA.body as any[]).filter((r) => (r.requestedAt ?? r.createdAt ?? r.decidedAt ?? '') < backupStarted);
    expect(before.length).toBeGreaterThan(1);
    for (const r of before) expect(restoredRefs.has(JSON.stringify(r)), JSON.stringify(r)).toBe(true);
    expect(reqsB.body.length).toBeLessThan(reqsA.body.length);

    // audit log: the same rule
    // (an entry still `pending` when the backup was taken stays pending in the restore: its intent
    // was recorded before the action, its outcome after the backup; it names the same request)
    const origAudit = asSet(auditA.body);
    const origIds = new Set((auditA.body as any[]).map((e) => e.requestId));
    for (const e of auditB.body) {
      if (e.result === 'pending') expect(origIds.has(e.requestId), JSON.stringify(e)).toBe(true);
      else expect(origAudit.has(JSON.stringify(e)), JSON.stringify(e)).toBe(true);
    }
    const restoredAudit = asSet(auditB.body);
    const auditBefore = (auditA.body as any[]).filter((e) => e.at < backupStarted);
    expect(auditBefore.length).toBeGreaterThan(3);
    const restoredById = new Map((auditB.body as any[]).map((e) => [e.requestId, e]));
    for (const e of auditBefore) {
      const r = restoredById.get(e.requestId);
      if (r?.result === 'pending') continue; // finished after the backup was taken
      expect(restoredAudit.has(JSON.stringify(e)), JSON.stringify(e)).toBe(true);
    }

    // uptime: every point before the backup, the same
    expect(uptimeB.status).toBe(200);
    const pointsBefore = (u: Record<string, boolean>) => Object.fromEntries(Object.entries(u).filter(([k]) => k < backupStarted.slice(0, 19)));
    expect(Object.keys(pointsBefore(uptimeA.body)).length).toBeGreaterThan(0);
    expect(pointsBefore(uptimeB.body)).toEqual(pointsBefore(uptimeA.body));
  }, 180_000);
});
