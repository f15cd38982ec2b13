/**
 * Faults: the API against Engines that stop, crash, hang or talk nonsense; concurrent calls on
 * one app; a runner killed with SIGKILL while it writes; a busy database.
 *
 * - A PRIVATE second Engine (scripts/private-engine.sh; never the machine's main one) stopped
 *   while idle and mid-request, killed mid-request, then started again: 503
 *   `engine_unavailable` with Retry-After (never 500), and the same process recovers.
 * - Fake Engines on Unix sockets: one that accepts but never answers (504 `engine_timeout`
 *   within the facility's `timeoutMs`), one that answers `/version` and then hangs, one that
 *   closes every connection, one that speaks no HTTP, one whose `/version` is not JSON.
 * - Concurrent create-app of one name: one container, the rest 409. Concurrent stop, delete
 *   and hard reset (and two resets) of one app: a consistent end state and no orphan.
 * - The runner (wrangler-local/main.ts, uptime job every second, audit writes from a stream of
 *   POSTs) killed with SIGKILL: the database passes `PRAGMA integrity_check`, every committed
 *   uptime run is whole, and a new runner on the same database carries on.
 * - A write lock held by another connection: mutating routes wait and succeed, audit included.
 *
 * Own database (temporary SRC_DATA_DIR) and own facilities; everything started here is
 * stopped and removed in afterAll.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { freePort } from '../scripts/local-deploy.ts';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createClient, type Client } from '@libsql/client';
import { parseConfig, setConfig } from '../core/config.ts';
import { resetFacilities } from '../core/facility.ts';
import { closeDb, getDb, withBusyRetry } from '../core/store.ts';
import { LABELS } from '../core/naming.ts';
import { routes } from '../functions/index.ts';
import { ADMIN_TOKEN, call, engine, IMAGES, removeNetworksWhere, type Answer } from './helpers.ts';
import { NETWORK_LABELS } from '../core/user-network.ts';

const RUN = Math.random().toString(36).slice(2, 8).padEnd(6, '0');
const ROOT = resolve('.');
const DATA_DIR = resolve(`.tmp/faults-${RUN}`);
const PE = `fzf${RUN}`; // private engine name
const PE_HOST = `unix:///tmp/src-private-${PE}/docker.sock`;
const SOCK_DIR = mkdtempSync(join(tmpdir(), 'src-faults-'));
const sock = (n: string) => join(SOCK_DIR, `${n}.sock`);
const images = { approved: ['docker.io/src-test/*'] };
const mainEngine = { host: 'unix:///var/run/docker.sock' };
const user = (tag: string) => `fz${RUN}${tag}`;

process.env.SRC_DATA_DIR = DATA_DIR;
delete process.env.SRC_DB_URL;
setConfig(
  parseConfig(
    {
      facilities: {
        pe: { engine: { host: PE_HOST, timeoutMs: 30_000 }, mode: 'solo', images },
        main: { engine: mainEngine, mode: 'solo', images },
        kill: { engine: mainEngine, mode: 'solo', images }, // also the facility of the runner killed in (d)
        hang: { engine: { host: `unix://${sock('hang')}`, timeoutMs: 300 }, mode: 'solo', images },
        late: { engine: { host: `unix://${sock('late')}`, timeoutMs: 300 }, mode: 'solo', images },
        // the fast failures get a generous timeout, so a stalled test process cannot turn them into 504s
        closing: { engine: { host: `unix://${sock('closing')}`, timeoutMs: 10_000 }, mode: 'solo', images },
        garbage: { engine: { host: `unix://${sock('garbage')}`, timeoutMs: 10_000 }, mode: 'solo', images },
        badversion: { engine: { host: `unix://${sock('badversion')}`, timeoutMs: 10_000 }, mode: 'solo', images },
        gone: { engine: { host: `unix://${sock('nobody-listens')}`, timeoutMs: 10_000 }, mode: 'solo', images },
      },
    },
    'test/faults.test.ts',
  ),
);
resetFacilities();

// --- Helpers --------------------------------------------------------------------------------
function privateEngine(cmd: 'start' | 'stop' | 'destroy', env: Record<string, string> = {}): string {
  return execFileSync('bash', [join(ROOT, 'scripts/private-engine.sh'), cmd, PE], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 });
}
/** The docker CLI against the private Engine. */
function pdocker(...args: string[]): string {
  return execFileSync('docker', ['-H', PE_HOST, ...args], { encoding: 'utf8', timeout: 60_000 }).trim();
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const show = (a: Answer) => `${a.status} ${JSON.stringify(a.body).slice(0, 400)}`;

/** A 503 as the API promises it: problem+json, `engine_unavailable`, Retry-After seconds. */
function expectUnavailable(a: Answer, what: string): void {
  expect(a.status, `${what}: ${show(a)}`).toBe(503);
  expect(a.headers.get('content-type')).toBe('application/problem+json');
  expect(a.body.code).toBe('engine_unavailable');
  expect(a.headers.get('retry-after'), what).toMatch(/^\d+$/);
}

/** Never an unexplained 5xx: only 503 engine_unavailable or 504 engine_timeout, as problem+json. */
function expectNoInternalError(a: Answer, what: string): void {
  if (a.status < 500) return;
  expect([503, 504], `${what}: ${show(a)}`).toContain(a.status);
  expect(a.body.code, what).toBe(a.status === 503 ? 'engine_unavailable' : 'engine_timeout');
}

/** A request for `route` with plausible valid parameters (names from its metadata). */
function plausible(route: (typeof routes)[number], facility: string, app: string, u: string): string {
  const values: Record<string, string> = { name: app, user: u, image: IMAGES.busybox, timeout: '1', hostname: 'localhost', duration: 'hour', limit: '5' };
  const q = Object.entries(route.meta.query)
    .filter(([k, p]) => p.required || k in values)
    .map(([k]) => `${k}=${encodeURIComponent(values[k] ?? 'x')}`)
    .join('&');
  return `/${facility}/${route.meta.route}${q ? '?' + q : ''}`;
}
/** Routes that always talk to the Engine (the rest may answer from the database). */
const ENGINE_ROUTES = new Set([
  'start-app',
  'stop-app',
  'pause-app',
  'unpause-app',
  'restart-app',
  'kill-app',
  'create-app',
  'delete-app',
  'hard-reset-app',
  'get-users',
  'get-app-names',
  'get-app-status',
  'get-app-stats',
  'get-app-info',
]);

// --- Fake Engines ---------------------------------------------------------------------------
const servers: Server[] = [];
const sockets = new Set<Socket>();
function fakeEngine(name: string, onRequest: (s: Socket, head: string) => void): Promise<void> {
  const srv = createNetServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    s.on('data', (d) => onRequest(s, d.toString('latin1')));
  });
  servers.push(srv);
  return new Promise((r) => srv.listen(sock(name), () => r()));
}
const httpAnswer = (status: string, body: string) => `HTTP/1.1 ${status}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
const VERSION = JSON.stringify({ ApiVersion: '1.41', MinAPIVersion: '1.12', Version: '20.10.24' });

// --- Set-up and tear-down -------------------------------------------------------------------
const runners = new Set<ChildProcess>();

beforeAll(async () => {
  await fakeEngine('hang', () => undefined);
  await fakeEngine('late', (s, head) => {
    if (head.startsWith('GET /version')) s.write(httpAnswer('200 OK', VERSION));
  });
  await fakeEngine('closing', (s) => s.destroy());
  await fakeEngine('garbage', (s) => s.write('SSH-2.0-OpenSSH_9.2\r\n\r\n'));
  await fakeEngine('badversion', (s) => s.write(httpAnswer('200 OK', '{"ApiVersion": 1.41')));
  await getDb();
});

afterAll(async () => {
  for (const p of runners) p.kill('SIGKILL');
  for (const s of sockets) s.destroy();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  rmSync(SOCK_DIR, { recursive: true, force: true });
  try {
    privateEngine('destroy', { SRC_PRIVATE_ENGINE_STOP_TIMEOUT: '5' });
  } catch (e) {
    console.error('private engine destroy failed:', e);
  }
  const list = await engine.listContainers({ all: true });
  const mine = list.filter((c) => String(c.Labels?.[LABELS.user] ?? '').startsWith(`fz${RUN}`) || (c.Names ?? []).some((n: string) => n.includes(`fz${RUN}`)));
  await Promise.all(mine.map((c) => engine.removeContainer(c.Id, { force: true, v: true }).catch(() => undefined)));
  await removeNetworksWhere((l) => String(l[NETWORK_LABELS.user] ?? '').startsWith(`fz${RUN}`.toLowerCase()));
  await closeDb();
  rmSync(DATA_DIR, { recursive: true, force: true });
}, 180_000);

// --- (a) Engine down, crashed, hanging, nonsensical ------------------------------------------
describe('a private Engine that stops and starts again', () => {
  const u = user('pe');
  const app = `busybox--${u}`;
  const stubborn = `stubborn--${u}`;
  let appId = '';

  beforeAll(async () => {
    privateEngine('start');
    // an image whose process ignores SIGTERM, so `stop-app?timeout=120` stays in flight
    const tmp = pdocker('create', IMAGES.busybox);
    pdocker('commit', '-c', 'CMD ["/bin/sh", "-c", "trap \\"\\" TERM; while :; do sleep 1; done"]', tmp, 'src-test/stubborn:latest');
    pdocker('rm', tmp);
    const r = await call('POST', `/pe/create-app?image=${encodeURIComponent(IMAGES.busybox)}&user=${u}`);
    expect(r.status, show(r)).toBe(201);
    appId = r.body.id;
    expect((await call('POST', `/pe/start-app?name=${app}`)).status).toBe(200);
  }, 180_000);

  it('stopped while idle: every Engine route answers 503 engine_unavailable with Retry-After, none 500', async () => {
    privateEngine('stop');
    for (const route of routes) {
      const a = await call(route.meta.method, plausible(route, 'pe', app, u));
      expectNoInternalError(a, route.meta.route);
      if (ENGINE_ROUTES.has(route.meta.route)) expectUnavailable(a, route.meta.route);
    }
  }, 120_000);

  it('started again: the same process serves the same app, and it works', async () => {
    privateEngine('start');
    const info = await call('GET', `/pe/get-app-info?name=${app}`);
    expect(info.status, show(info)).toBe(200);
    expect(info.body.Id).toBe(appId);
    const start = await call('POST', `/pe/start-app?name=${app}`);
    expect(start.status, show(start)).toBe(200);
    expect(start.body.state).toBe('running');
    expect((await call('GET', `/pe/get-app-names?user=${u}`)).body).toEqual([app]);
  }, 120_000);

  it('stopped mid-request (a stop with a long timeout in flight): 503, never 500; then recovers', async () => {
    expect((await call('POST', `/pe/create-app?image=src-test/stubborn:latest&user=${u}`)).status).toBe(201);
    expect((await call('POST', `/pe/start-app?name=${stubborn}`)).status).toBe(200);
    const inFlight = call('POST', `/pe/stop-app?name=${stubborn}&timeout=120`);
    await sleep(1000); // the Engine is now waiting out the 120 s grace
    privateEngine('stop'); // dockerd shuts down (it kills the container after its own 10 s)
    const a = await inFlight;
    // 503 when the Engine drops the connection as it exits (what dockerd 20.10 does); 200 would
    // be an Engine that finished the stop first: either way never an unexplained 5xx
    expect([200, 503, 504], show(a)).toContain(a.status);
    expectNoInternalError(a, 'stop-app in flight');
    if (a.status === 200) expect(a.body.state).not.toBe('running');
    privateEngine('start');
    const info = await call('GET', `/pe/get-app-info?name=${stubborn}`);
    expect(info.status, show(info)).toBe(200);
    expect(info.body.State.Running).toBe(false);
  }, 180_000);

  it('killed (SIGKILL) mid-request: 503, never 500; then recovers', async () => {
    expect((await call('POST', `/pe/start-app?name=${stubborn}`)).status).toBe(200);
    const inFlight = call('POST', `/pe/stop-app?name=${stubborn}&timeout=120`);
    const stats = call('GET', `/pe/get-app-stats?name=${stubborn}`);
    await sleep(1000);
    privateEngine('stop', { SRC_PRIVATE_ENGINE_STOP_TIMEOUT: '0' }); // SIGKILL at once
    for (const [what, p] of [
      ['stop-app', inFlight],
      ['get-app-stats', stats],
    ] as const) {
      const a = await p;
      expectNoInternalError(a, what);
      if (what === 'stop-app') expect([503, 504], show(a)).toContain(a.status);
    }
    expectUnavailable(await call('GET', `/pe/get-app-status?name=${stubborn}`), 'after the crash');
    privateEngine('start');
    const st = await call('GET', `/pe/get-app-status?name=${app},${stubborn}`);
    expect(st.status, show(st)).toBe(200);
    const del = await call('POST', `/pe/delete-app?name=${stubborn}`);
    expect(del.status, show(del)).toBe(200);
  }, 180_000);
});

describe('Engines that hang or talk nonsense', () => {
  const name = `busybox--${user('x')}`;

  it('accepts but never answers: 504 engine_timeout within the facility timeout, on every Engine route', async () => {
    for (const route of routes.filter((r) => ENGINE_ROUTES.has(r.meta.route))) {
      const a = await call(route.meta.method, plausible(route, 'hang', name, user('x')));
      expect(a.status, `${route.meta.route}: ${show(a)}`).toBe(504);
      expect(a.body.code).toBe('engine_timeout');
      expect(a.headers.get('content-type')).toBe('application/problem+json');
    }
  }, 120_000);

  it('answers /version, then hangs: 504 engine_timeout', async () => {
    for (const path of [`/late/get-app-info?name=${name}`, `/late/stop-app?name=${name}`, `/late/get-app-names`]) {
      const a = await call(path.includes('stop-app') ? 'POST' : 'GET', path);
      expect(a.status, `${path}: ${show(a)}`).toBe(504);
      expect(a.body.code).toBe('engine_timeout');
    }
  });

  it('closes every connection, speaks no HTTP, or has no socket at all: 503 with Retry-After', async () => {
    for (const f of ['closing', 'garbage', 'gone']) {
      expectUnavailable(await call('GET', `/${f}/get-app-info?name=${name}`), f);
      expectUnavailable(await call('POST', `/${f}/delete-app?name=${name}`), f);
    }
  });

  it('answers /version with something that is not a version: 502 engine_error, not 500', async () => {
    const a = await call('GET', `/badversion/get-app-info?name=${name}`);
    expect(a.status, show(a)).toBe(502);
    expect(a.body.code).toBe('engine_error');
  });
});

// --- (b), (c) Concurrency on one app -----------------------------------------------------------
/** Every container on the main Engine that belongs to `name`: the app and any leftover. */
async function containersOf(name: string, u: string): Promise<any[]> {
  const list = await engine.listContainers({ all: true });
  return list.filter((c) => (c.Names ?? []).some((n: string) => n.startsWith(`/${name}`)) || c.Labels?.[LABELS.user] === u);
}

describe('concurrent calls on one app', () => {
  it('10 concurrent create-app of one name: one 201, nine 409 app_exists, one container', async () => {
    const u = user('cc');
    const answers = await Promise.all(Array.from({ length: 10 }, () => call('POST', `/main/create-app?image=${encodeURIComponent(IMAGES.busybox)}&user=${u}`)));
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses, answers.map(show).join('\n')).toEqual([201, 409, 409, 409, 409, 409, 409, 409, 409, 409]);
    for (const a of answers.filter((x) => x.status === 409)) expect(a.body.code).toBe('app_exists');
    const list = await containersOf(`busybox--${u}`, u);
    expect(list.map((c) => c.Names[0])).toEqual([`/busybox--${u}`]);
    expect(list[0].Id).toBe(answers.find((a) => a.status === 201)!.body.id);
  });

  const mixes: [string, string[]][] = [
    ['stop, delete, hard reset', ['stop-app', 'delete-app', 'hard-reset-app']],
    ['hard reset, stop, delete', ['hard-reset-app', 'stop-app', 'delete-app']],
    ['delete, hard reset, stop', ['delete-app', 'hard-reset-app', 'stop-app']],
    ['two hard resets and a stop', ['hard-reset-app', 'hard-reset-app', 'stop-app']],
    ['two hard resets and a delete', ['hard-reset-app', 'delete-app', 'hard-reset-app']],
    ['all of them twice', ['stop-app', 'hard-reset-app', 'delete-app', 'hard-reset-app', 'stop-app', 'delete-app']],
    // concurrent resets used to remove each other's replacement as stale and lose the app
    ['three hard resets', ['hard-reset-app', 'hard-reset-app', 'hard-reset-app']],
    ['four hard resets', ['hard-reset-app', 'hard-reset-app', 'hard-reset-app', 'hard-reset-app']],
  ];
  it.each(mixes)(
    '%s at once, four rounds: deleted or exactly one labelled container, no orphan',
    async (_label, calls) => {
      for (let round = 0; round < 4; round++) {
        const u = user(`r${Math.random().toString(36).slice(2, 7)}`);
        const name = `busybox--${u}`;
        await call('POST', `/main/create-app?image=${encodeURIComponent(IMAGES.busybox)}&user=${u}`);
        if (round !== 1) await call('POST', `/main/start-app?name=${name}`); // round 1: not running
        const answers = await Promise.all(calls.map((r) => call('POST', `/main/${r}?name=${name}${r === 'stop-app' ? '&timeout=1' : ''}`)));
        answers.forEach((a, i) => {
          expect([200, 404, 409], `${calls[i]}: ${show(a)}`).toContain(a.status);
          if (a.status === 404) expect(a.body.code).toBe('app_not_found');
        });
        const left = await containersOf(name, u);
        const detail = `${calls.join(', ')} -> ${answers.map((a) => a.status).join(', ')}; left: ${left.map((c) => c.Names[0]).join(', ')}`;
        if (left.length > 0) {
          expect(left.length, detail).toBe(1);
          expect(left[0].Names[0], detail).toBe(`/${name}`);
          expect(left[0].Labels).toMatchObject({ [LABELS.facility]: 'main', [LABELS.app]: name, [LABELS.user]: u });
          expect(left[0].Labels[LABELS.schema]).toBeDefined();
          // and the API sees it as the app
          expect((await call('GET', `/main/get-app-names?user=${u}`)).body, detail).toEqual([name]);
        } else {
          expect(
            answers.some((a, i) => calls[i] === 'delete-app' && a.status === 200),
            `${detail}: gone without a delete`,
          ).toBe(true);
          expect((await call('GET', `/main/get-app-names?user=${u}`)).body).toEqual([]);
        }
      }
    },
    120_000,
  );
});

// --- (d) SIGKILL of the runner during writes -----------------------------------------------------
describe('the runner killed with SIGKILL while it writes', () => {
  const dir = join(DATA_DIR, 'runner');
  const dbFile = join(dir, 'src.db');
  const u = user('k');
  const apps = ['busybox', 'httpd'].map((i) => `${i}--${u}`);

  /** Starts `node --import tsx wrangler-local/main.ts` (one process: SIGKILL reaches the writer). */
  async function startRunner(): Promise<{ proc: ChildProcess; base: string }> {
    const port = await freePort();
    const proc = spawn(process.execPath, ['--import', 'tsx', 'wrangler-local/main.ts'], {
      cwd: ROOT,
      env: {
        ...process.env,
        PORT: String(port),
        SRC_CONFIG: join(dir, 'config.json'),
        SRC_DATA_DIR: dir,
        SRC_ADMIN_TOKEN: ADMIN_TOKEN,
        SRC_RATE_LIMIT: '0',
        SRC_UPTIME_CRON: '* * * * * *', // every second
        SRC_UPTIME_LEASE_SECONDS: '5',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    runners.add(proc);
    proc.on('exit', () => runners.delete(proc));
    let log = '';
    await new Promise<void>((res, rej) => {
      const t = setTimeout(() => rej(new Error(`runner did not start: ${log}`)), 60_000);
      const on = (d: Buffer) => {
        log += d;
        if (log.includes('listening')) clearTimeout(t), res();
      };
      proc.stdout!.on('data', on);
      proc.stderr!.on('data', (d) => (log += d));
      proc.on('exit', (code) => rej(new Error(`runner exited (${code}): ${log}`)));
    });
    return { proc, base: `http://127.0.0.1:${port}` };
  }

  async function committedRuns(db: Client): Promise<number> {
    const r = await db.execute({ sql: "SELECT runs FROM uptime_checkpoints WHERE facility = 'kill'", args: [] }).catch(() => ({ rows: [] as any[] }));
    return r.rows[0] ? Number(r.rows[0].runs) : 0;
  }

  /** The database after a crash: intact, and every committed uptime run whole. */
  async function verify(db: Client): Promise<{ runs: number; audit: number }> {
    const ic = await db.execute('PRAGMA integrity_check');
    expect(ic.rows.map((r) => Object.values(r)[0])).toEqual(['ok']);
    const runs = await committedRuns(db);
    // one sample per app per committed run, written with the run's checkpoint or not at all
    const groups = await db.execute("SELECT at, count(*) AS n, group_concat(app) AS apps FROM uptime_samples WHERE facility = 'kill' GROUP BY at ORDER BY at");
    for (const g of groups.rows) expect(Number(g.n), `samples at ${g.at}: ${g.apps}`).toBe(apps.length);
    expect(groups.rows.length).toBe(runs);
    // every app has a first transition
    const first = await db.execute("SELECT app, count(*) AS n FROM uptime_transitions WHERE facility = 'kill' GROUP BY app ORDER BY app");
    if (runs > 0) expect(first.rows.map((r) => r.app)).toEqual([...apps].sort());
    const audit = await db.execute('SELECT count(*) AS n, sum(route IS NULL OR status IS NULL OR result IS NULL) AS bad FROM audit');
    expect(Number(audit.rows[0].bad ?? 0)).toBe(0);
    return { runs, audit: Number(audit.rows[0].n) };
  }

  beforeAll(async () => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ facilities: { kill: { engine: mainEngine, mode: 'solo', images } } }));
    for (const image of [IMAGES.busybox, IMAGES.httpd]) {
      const r = await call('POST', `/kill/create-app?image=${encodeURIComponent(image)}&user=${u}`);
      expect(r.status, show(r)).toBe(201);
    }
    expect((await call('POST', `/kill/start-app?name=${apps[0]}`)).status).toBe(200);
  }, 120_000);

  it('three kills at random moments: integrity ok, no half-written run, a new runner carries on', async () => {
    let before = { runs: 0, audit: 0 };
    for (let round = 0; round < 3; round++) {
      const { proc, base } = await startRunner();
      const db = createClient({ url: `file:${dbFile}` });
      try {
        // wait until this runner has committed a run (the last one's lease must expire first)
        for (let i = 0; (await committedRuns(db)) <= before.runs; i++) {
          if (i > 300) throw new Error(`no uptime run committed after round ${round}`);
          await sleep(100);
        }
        // a stream of audited POSTs while the uptime job keeps writing
        let stop = false;
        const hammer = Array.from({ length: 8 }, async (_, k) => {
          for (let i = 0; !stop; i++) {
            await fetch(`${base}/kill/stop-app?name=ghost${k}-${i}--${u}`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }).catch(() => undefined);
          }
        });
        // kill it at a random moment once its audit writes are flowing
        // (the runner creates the audit table with its first entry)
        const audited = async () => Number((await db.execute('SELECT count(*) AS n FROM audit').catch(() => ({ rows: [{ n: 0 }] }))).rows[0].n);
        for (let i = 0; (await audited()) <= before.audit; i++) {
          if (i > 300) throw new Error(`no audit entry committed in round ${round}`);
          await sleep(100);
        }
        await sleep(Math.floor(Math.random() * 1500));
        proc.kill('SIGKILL');
        stop = true;
        await Promise.all(hammer);
        await new Promise((r) => (proc.exitCode !== null || proc.signalCode !== null ? r(undefined) : proc.once('exit', r)));
        const after = await verify(db);
        expect(after.runs).toBeGreaterThan(before.runs);
        expect(after.audit).toBeGreaterThan(before.audit);
        before = after;
      } finally {
        db.close();
      }
    }
    // a last runner on the same database: serves and writes again
    const { proc, base } = await startRunner();
    const db = createClient({ url: `file:${dbFile}` });
    try {
      const r = await fetch(`${base}/kill/get-app-names`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      expect(r.status).toBe(200);
      expect(await r.json()).toEqual([...apps].sort());
      for (let i = 0; (await committedRuns(db)) <= before.runs; i++) {
        if (i > 300) throw new Error('no uptime run after the last crash');
        await sleep(100);
      }
      proc.kill('SIGTERM');
      await new Promise((r) => (proc.exitCode !== null || proc.signalCode !== null ? r(undefined) : proc.once('exit', r)));
      await verify(db);
    } finally {
      db.close();
    }
  }, 240_000);
});

// --- (e) A busy database ----------------------------------------------------------------------------
describe('a busy database', () => {
  const dbUrl = `file:${join(DATA_DIR, 'src.db')}`;
  /**
   * Another PROCESS holds the write lock for `ms` (in this process the synchronous driver
   * would block on its own lock). Resolves once the lock is held; `released` when it is gone.
   */
  async function holdWriteLock(ms: number): Promise<{ released: Promise<unknown> }> {
    const script = `
      import { createClient } from '@libsql/client';
      const db = createClient({ url: ${JSON.stringify(dbUrl)}, timeout: 30000 });
      await db.execute('CREATE TABLE IF NOT EXISTS faults_lock (v INTEGER)');
      const tx = await db.transaction('write');
      await tx.execute('INSERT INTO faults_lock VALUES (1)');
      console.log('locked');
      await new Promise((r) => setTimeout(r, ${ms}));
      await tx.commit();`;
    const proc = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    runners.add(proc);
    const released = new Promise((r) => proc.once('exit', r)).finally(() => runners.delete(proc));
    await new Promise<void>((res, rej) => {
      proc.stdout!.on('data', (d) => String(d).includes('locked') && res());
      proc.once('exit', (code) => rej(new Error(`lock holder exited (${code})`)));
    });
    return { released };
  }

  /**
   * Makes the process's client pool hold two connections, the newer one next in line (as after
   * any two overlapping transactions): a setting made on one connection only would not cover it.
   */
  async function twoPooledConnections(): Promise<void> {
    const db = await getDb();
    const r1 = await db.transaction('read');
    const r2 = await db.transaction('read');
    await r1.rollback();
    r1.close();
    await r2.rollback();
    r2.close();
  }

  /** The server's ID of a call (its audit entry's request_id). */
  const requestId = (a: Answer): string => {
    const id = a.headers.get('x-request-id');
    expect(id, show(a)).toBeTruthy();
    return id!;
  };

  /** What another connection sees: the audit entry of `requestId` (committed), and whether the lock is free. */
  async function fromOutside(requestId: string): Promise<{ result?: string; lockFree: boolean }> {
    const other = createClient({ url: dbUrl });
    try {
      const r = await other.execute({ sql: 'SELECT result FROM audit WHERE request_id = ?', args: [requestId] });
      let lockFree = true;
      try {
        const tx = await other.transaction('write');
        await tx.rollback();
      } catch {
        lockFree = false;
      }
      return { result: r.rows[0]?.result as string | undefined, lockFree };
    } finally {
      other.close();
    }
  }

  it.each([
    ['a moment', 800],
    ['a few seconds', 3000],
  ])(
    'a write lock held by another process for %s: mutating routes wait and succeed, committed, lock left free',
    async (_label, ms) => {
      await call('POST', `/main/stop-app?name=warm--up${ms}`); // the domains' migrations run before the lock
      await twoPooledConnections();
      const u = user(`b${ms}`);
      const holder = await holdWriteLock(ms);
      const [created, stopped] = await Promise.all([call('POST', `/main/create-app?image=${encodeURIComponent(IMAGES.busybox)}&user=${u}`), call('POST', `/main/stop-app?name=ghost--${u}`)]);
      await holder.released;
      expect(created.status, show(created)).toBe(201);
      expect(stopped.status, show(stopped)).toBe(404);
      expect(await fromOutside(requestId(created))).toEqual({ result: 'ok', lockFree: true });
      expect(await fromOutside(requestId(stopped))).toEqual({ result: 'app_not_found', lockFree: true });
      // and the next write of this process commits too
      const after = await call('POST', `/main/delete-app?name=busybox--${u}`);
      expect(after.status).toBe(200);
      expect(await fromOutside(requestId(after))).toEqual({ result: 'ok', lockFree: true });
    },
    60_000,
  );

  it('a write transaction of this process open across awaits (as the uptime job commits): routes wait their turn, all committed', async () => {
    const db = await getDb();
    await db.execute('CREATE TABLE IF NOT EXISTS faults_inproc (v INTEGER)');
    await twoPooledConnections();
    let inTx!: () => void;
    const txOpen = new Promise<void>((r) => (inTx = r));
    const long = withBusyRetry(async () => {
      const tx = await db.transaction('write');
      try {
        await tx.execute('INSERT INTO faults_inproc VALUES (1)');
        inTx();
        await sleep(300);
        await tx.execute('INSERT INTO faults_inproc VALUES (2)');
        await tx.commit();
      } finally {
        tx.close();
      }
    });
    await txOpen;
    const answers = await Promise.all(Array.from({ length: 5 }, (_, i) => call('POST', `/main/stop-app?name=ghost${i}--${user('ip')}`)));
    await long;
    for (const a of answers) {
      expect(a.status, show(a)).toBe(404);
      expect(await fromOutside(requestId(a))).toEqual({ result: 'app_not_found', lockFree: true });
    }
    const other = createClient({ url: dbUrl });
    expect((await other.execute('SELECT count(*) AS n FROM faults_inproc')).rows[0].n).toBe(2);
    other.close();
  }, 60_000);
});
