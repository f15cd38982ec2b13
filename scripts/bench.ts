/**
 * `npm run bench [-- --apps 10 --rounds 25 --stats-rounds 5 --via runner,nginx --clients 50 --seconds 3
 *   --concurrency N --stats-concurrency N --stopped --profile DIR]`: the API's reads against the raw Engine API calls each
 * one needs, measured the same way in the same run.
 *
 * Starts the runner in its own process (wrangler-local/main.ts bundled, as `npm start` runs it; the
 * rate limiter off, the uptime job off), creates N apps (default 10, running unless `--stopped`)
 * for unique users (25 apps each) on the local Engine; with `--via …nginx` (the default) also
 * builds the read routes' bundles and runs one Node process each on sqld behind nginx
 * (scripts/local-deploy.ts, the production path). Then times each read with curl
 * (`%{time_total}`, a new connection per request, as a client sees it) through each path
 * against curl on the Engine's socket (reads of the database only, the audit log and the image
 * requests: ours alone), interleaved round by round (the order alternating), and
 * prints one markdown table of medians: ours, ratio and difference per path, raw, and the same raw
 * call(s) through a Node pass-through (scripts/bench-floor.mjs: what any Node process in front of
 * the Engine costs on this machine, with none of our code; for GET /, which needs no Engine call,
 * that process answering without one). Several raw
 * calls that a read needs at once (get-images; stats of N apps) are sent in parallel and timed as
 * the slowest. Then C keep-alive clients ask get-app-status back to back on each path and on the
 * raw list, interleaved (best of 2; how many Engine list calls the runner made per answer shows
 * the coalescing of identical reads), and RSS of the runner and of the get-app-status bundle.
 * The load average is printed with each table (the machine is shared). `--profile DIR` writes
 * the runner's CPU profile and each bundle's (DIR/bundles; scripts/profile-summary.ts reads them).
 * Removes what it created. Needs curl, the test images (scripts/build-test-images.sh), nginx and
 * an Engine on a unix socket (`DOCKER_HOST=unix://…`, default /var/run/docker.sock).
 */
import { parseArgs } from 'node:util';
import { Agent, request } from 'node:http';
import { readFileSync } from 'node:fs';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import type { LocalDeployment } from './local-deploy.ts';
import { dirname, join, resolve } from 'node:path';
import { Engine } from '../core/engine.ts';
import { LABELS } from '../core/naming.ts';
import { NETWORK_LABELS } from '../core/user-network.ts';
import { generateToken } from '../core/auth.ts';

const { values } = parseArgs({
  options: {
    apps: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '25' },
    'stats-rounds': { type: 'string', default: '5' },
    /** write the runner's CPU profile (node --cpu-prof) into this directory */
    profile: { type: 'string' },
    /** clients of the throughput run (get-app-status, all apps) */
    clients: { type: 'string', default: '50' },
    /** seconds of each side's throughput run */
    seconds: { type: 'string', default: '3' },
    /** where our reads go: `runner` (wrangler-local), `nginx` (one bundle per route on sqld behind nginx), or both */
    via: { type: 'string', default: 'runner,nginx' },
    /** the facility's `concurrency` (its fan-out bound; default: the configuration's default) */
    concurrency: { type: 'string' },
    /** the facility's `statsConcurrency` (stats samples one get-app-stats request takes at once; default: the configuration's default) */
    'stats-concurrency': { type: 'string' },
    /** create the apps but leave them stopped (list reads at an N whose running containers do not fit) */
    stopped: { type: 'boolean', default: false },
  },
});
const VIA = values.via!.split(',').filter(Boolean) as ('runner' | 'nginx')[];
for (const v of VIA) if (v !== 'runner' && v !== 'nginx') throw new Error(`bench: --via takes runner and/or nginx, not ${v}`);
const N = Number(values.apps);
const R = Number(values.rounds);
const RS = Number(values['stats-rounds']);
const dockerHost = process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
if (!dockerHost.startsWith('unix://')) throw new Error(`bench: needs the Engine on a unix socket, not ${dockerHost}`);
const socket = dockerHost.slice('unix://'.length);

const dir = mkdtempSync(join(tmpdir(), 'src-bench-'));
const facility = 'bench';
writeFileSync(
  join(dir, 'facilities.json'),
  JSON.stringify({
    facilities: {
      [facility]: {
        mode: 'solo',
        images: { approved: ['docker.io/src-test/*'] },
        ...(values.concurrency ? { concurrency: Number(values.concurrency) } : {}),
        ...(values['stats-concurrency'] ? { statsConcurrency: Number(values['stats-concurrency']) } : {}),
      },
    },
  }),
);
const { freePort } = await import('./local-deploy.ts');
const port = await freePort();
const token = generateToken();
const headerFile = join(dir, 'auth-header'); // the token never on a command line
writeFileSync(headerFile, `authorization: Bearer ${token}\n`, { mode: 0o600 });
const profArgs = values.profile ? ['--cpu-prof', '--cpu-prof-dir', values.profile] : [];
// the runner as `npm start` runs it: bundled (scripts/build.ts buildRunner), in this run's own file
const { buildRunner } = await import('./build.ts');
const runnerFile = await buildRunner(`.tmp/bench-${process.pid}`);
const runner = spawn(process.execPath, [...profArgs, runnerFile], {
  env: {
    ...process.env,
    SRC_CONFIG: join(dir, 'facilities.json'),
    SRC_DATA_DIR: dir,
    SRC_UPTIME_CRON: 'off',
    PORT: String(port),
    SRC_ADMIN_TOKEN: token,
    SRC_RATE_LIMIT: '0', // off: the throughput run must not be limited (issue 17)
    SRC_GATEWAY_URL: `http://*.apps.localhost:${port}/`,
  },
  stdio: ['ignore', 'ignore', 'inherit'],
});
// the Node pass-through (scripts/bench-floor.mjs): the same raw calls through the least a Node process can do
const floorProc = spawn(process.execPath, ['scripts/bench-floor.mjs', socket], { stdio: ['ignore', 'pipe', 'inherit'] });
const floorPort = await new Promise<number>((resolve, reject) => {
  floorProc.stdout!.once('data', (d) => resolve(Number(String(d).trim())));
  floorProc.once('exit', () => reject(new Error('bench: the Node pass-through did not start')));
});
const engine = new Engine({ host: dockerHost });
const runId = Math.random().toString(36).slice(2, 8);
/** A user's network holds ~30 containers: the apps are spread over users of this run, 25 each. */
const APPS_PER_USER = 25;
const users = Array.from({ length: Math.max(1, Math.ceil(N / APPS_PER_USER)) }, (_, u) => `bench${runId}u${u}`);

/** One request by curl: seconds from start to the last byte, and the status. */
function curl(args: string[]): Promise<{ s: number; status: number }> {
  return new Promise((resolve, reject) =>
    execFile('curl', ['-s', '-o', '/dev/null', '-w', '%{time_total} %{http_code}', ...args], (err, out) => {
      if (err) return reject(err);
      const [t, code] = out.trim().split(' ');
      resolve({ s: Number(t), status: Number(code) });
    }),
  );
}
/** Base URLs of our two paths: the runner, and (once started) nginx in front of one bundle per route. */
const bases: Record<string, string> = { runner: `http://127.0.0.1:${port}` };
const ours = (via: string, path: string, method = 'GET') => curl(['-X', method, '-H', `@${headerFile}`, `${bases[via]}${path}`]);
const raw = (path: string) => curl(['--unix-socket', socket, `http://localhost/v${engine.apiVersion}${path}`]);
/** The raw calls `paths` at once through the Node pass-through, as one request (ms). */
const floor = (paths: string[], label: string) =>
  parallel([() => curl([`http://127.0.0.1:${floorPort}/?${paths.map((p) => `p=${encodeURIComponent(`/v${engine.apiVersion}${p}`)}`).join('&')}`])], label);
/** A read's raw Engine calls `paths`: sent at once on the Engine's socket (`raw`), and through the Node pass-through (`floor`). */
const rawAndFloor = (paths: string[], label: string) => ({
  raw: () =>
    parallel(
      paths.map((p) => () => raw(p)),
      `raw ${label}`,
    ),
  floor: () => floor(paths, `floor ${label}`),
});
/** Several requests at once, timed as the slowest (ms). */
async function parallel(fns: (() => Promise<{ s: number; status: number }>)[], label: string): Promise<number> {
  const rs = await Promise.all(fns.map((f) => f()));
  const bad = rs.find((r) => r.status >= 300);
  if (bad) throw new Error(`${label}: HTTP ${bad.status}`);
  return Math.max(...rs.map((r) => r.s)) * 1000;
}

/** A process's resident set size (MiB), from /proc (Linux); the runner's by default. */
function rssMiB(pid = runner.pid): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}
/** RSS of the runner, and of the get-app-status bundle when it runs (MiB). */
function rssLine(): string {
  const bundle = deployment?.functions['get-app-status']?.[0]?.child.pid;
  return `runner ${rssMiB().toFixed(0)} MiB${bundle ? `, get-app-status bundle ${rssMiB(bundle).toFixed(0)} MiB` : ''}`;
}

/**
 * `clients` concurrent keep-alive clients asking `path` back to back for `seconds`:
 * completed requests per second (any status >= 300 fails the run).
 */
async function throughput(
  target: { socketPath?: string; port?: number; path: string; headers?: Record<string, string> },
  clients: number,
  seconds: number,
): Promise<{ perSecond: number; done: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  const until = Date.now() + seconds * 1000;
  let done = 0;
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const req = request({ agent, host: '127.0.0.1', socketPath: target.socketPath, port: target.port, path: target.path, headers: target.headers }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode! >= 300 ? reject(new Error(`throughput ${target.path}: HTTP ${res.statusCode}`)) : resolve()));
      });
      req.on('error', reject);
      req.end();
    });
  const started = Date.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (Date.now() < until) {
        await one();
        done++;
      }
    }),
  );
  agent.destroy();
  return { perSecond: done / ((Date.now() - started) / 1000), done };
}

/** The runner's count of `GET /containers/json` calls to the Engine so far (its /metrics). */
async function engineListCalls(): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
  let n = 0;
  for (const m of text.matchAll(/^src_engine_call_duration_seconds_count\{([^}]*)\} (\d+)/gm)) if (m[1].includes('endpoint="GET /containers/json"')) n += Number(m[2]);
  return n;
}

async function api(method: string, path: string): Promise<any> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`, { method, headers: { authorization: `Bearer ${token}` } });
  const body = await r.json();
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(body)}`);
  return body;
}

let deployment: LocalDeployment | undefined;
let built: string | undefined;
/**
 * The production path: the read routes' bundles (scripts/build.ts, into a temp directory), one
 * Node process each on sqld, nginx in front (scripts/local-deploy.ts) with its rate limit out of
 * reach; the same facility file and admin token as the runner. Sets `bases.nginx`.
 */
async function startDeployment(): Promise<LocalDeployment> {
  const { buildFunctions } = await import('./build.ts');
  const { startLocalDeployment } = await import('./local-deploy.ts');
  built = mkdtempSync(join(tmpdir(), 'src-bench-build-'));
  const routes = ['outline', 'get-app-names', 'get-app-status', 'get-app-info', 'get-images', 'get-app-stats', 'get-audit-log', 'get-image-requests', 'metrics'];
  await buildFunctions({ outdir: built, quiet: true, only: routes });
  const d = await startLocalDeployment({
    dist: built,
    config: join(dir, 'facilities.json'),
    functions: Object.fromEntries(routes.map((r) => [r, ['node' as const]])),
    env: {
      SRC_ADMIN_TOKEN: token,
      SRC_GATEWAY_URL: 'http://*.apps.localhost:{PROXY_PORT}/',
      // --profile: each bundle's CPU profile too, under DIR/bundles
      // BENCH_BUNDLE_NODE_OPTIONS: extra Node options of the bundles (e.g. a --require that counts their sqld calls)
      ...(process.env.BENCH_BUNDLE_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_BUNDLE_NODE_OPTIONS } : {}),
      ...(values.profile ? { NODE_OPTIONS: `--require=${resolve('scripts/cpu-prof-preload.cjs')}`, SRC_CPU_PROF_DIR: join(resolve(values.profile), 'bundles') } : {}),
    },
    proxy: { rateLimit: { rate: '100000r/s', burst: 100000 } },
  });
  bases.nginx = d.url;
  return d;
}

interface Case {
  read: string;
  rawLabel: string;
  /** our read through `via` (ms) */
  ours: (via: string) => Promise<number>;
  /** the raw Engine call(s) the read needs (ms); none for a read of the database only */
  raw?: () => Promise<number>;
  /** the same raw call(s) through the Node pass-through (ms) */
  floor?: () => Promise<number>;
  rounds: number;
}
const median = (t: number[]) => {
  const s = [...t].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms.toFixed(1));

try {
  for (let i = 0; ; i++) {
    if (
      await fetch(`http://127.0.0.1:${port}/`).then(
        () => true,
        () => false,
      )
    )
      break;
    if (i > 300) throw new Error('the runner did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
  await engine.listContainers({ all: false }); // negotiates the API version
  // The apps' image: the test busybox whose shell waits on one long sleep. The test image's own
  // command forks a `sleep 1` every second; 500 of those kept the load average above 100 and
  // measured the machine, not the API. Committed from a created container (Engine POST /commit).
  const base = (await engine.call({ method: 'POST', path: '/containers/create', body: { Image: 'src-test/busybox:latest' }, statusCodes: { 201: true } })) as { Id: string };
  await engine.call({
    method: 'POST',
    path: '/commit',
    query: { container: base.Id, repo: 'src-test/bench-idle', tag: runId, changes: 'CMD ["sh", "-c", "trap \'exit 0\' TERM INT; sleep 1000000000 & wait $!"]' },
    statusCodes: { 201: true },
  });
  await engine.removeContainer(base.Id, { force: true });
  const names: string[] = [];
  const ids: string[] = [];
  for (let i = 0; i < N; i++) {
    await engine.call({ method: 'POST', path: `/images/src-test/bench-idle:${runId}/tag`, query: { repo: `src-test/b${i}`, tag: 'bench' }, statusCodes: { 201: true } });
    const r = await api('POST', `/${facility}/create-app?image=src-test/b${i}:bench&user=${users[Math.floor(i / APPS_PER_USER)]}`);
    if (!values.stopped) await api('POST', `/${facility}/start-app?name=${r.name}`);
    names.push(r.name);
    ids.push(r.id);
  }
  const filter = (extra: string[] = []) => encodeURIComponent(JSON.stringify({ label: [`${LABELS.schema}`, `${LABELS.facility}=${facility}`, ...extra] }));
  const one = names[0];
  const cases: Case[] = [
    {
      read: 'get-app-names',
      rawLabel: 'filtered `/containers/json?all=1`',
      ours: (via) => parallel([() => ours(via, `/${facility}/get-app-names`)], 'names'),
      ...rawAndFloor([`/containers/json?all=1&filters=${filter()}`], 'list'),
      rounds: R,
    },
    {
      read: 'get-app-status, all',
      rawLabel: 'filtered `/containers/json?all=1`',
      ours: (via) => parallel([() => ours(via, `/${facility}/get-app-status`)], 'status'),
      ...rawAndFloor([`/containers/json?all=1&filters=${filter()}`], 'list'),
      rounds: R,
    },
    {
      read: 'get-app-status, one',
      rawLabel: 'list filtered by app label',
      ours: (via) => parallel([() => ours(via, `/${facility}/get-app-status?name=${one}`)], 'status one'),
      ...rawAndFloor([`/containers/json?all=1&filters=${filter([`${LABELS.app}=${one}`])}`], 'list one'),
      rounds: R,
    },
    {
      read: 'get-app-info',
      rawLabel: 'inspect',
      ours: (via) => parallel([() => ours(via, `/${facility}/get-app-info?name=${one}`)], 'info'),
      ...rawAndFloor([`/containers/${one}/json`], 'inspect'),
      rounds: R,
    },
    {
      read: 'get-images',
      rawLabel: '`/images/json` + filtered list, in parallel',
      ours: (via) => parallel([() => ours(via, `/${facility}/get-images`)], 'images'),
      ...rawAndFloor(['/images/json', `/containers/json?all=1&filters=${filter()}`], 'images'),
      rounds: R,
    },
    {
      read: 'GET / (outline, no token)',
      rawLabel: '`/_ping`',
      ours: (via) => parallel([() => curl([`${bases[via]}/`])], 'outline'),
      raw: () => parallel([() => raw('/_ping')], 'raw ping'),
      floor: () => floor([], 'floor hello'), // no Engine call: a Node "hello world"
      rounds: R,
    },
    {
      read: 'get-audit-log, 20 entries',
      rawLabel: 'none: the database only (target p50 at most 5 ms)',
      ours: (via) => parallel([() => ours(via, `/${facility}/get-audit-log?limit=20`)], 'audit log'),
      rounds: R,
    },
    {
      read: 'get-image-requests',
      rawLabel: 'none: the database only (target p50 at most 5 ms)',
      ours: (via) => parallel([() => ours(via, `/${facility}/get-image-requests`)], 'image requests'),
      rounds: R,
    },
    {
      read: 'get-app-stats, one app',
      rawLabel: '`/containers/{id}/stats?stream=false`',
      ours: (via) => parallel([() => ours(via, `/${facility}/get-app-stats?name=${one}`)], 'stats one'),
      raw: () => parallel([() => raw(`/containers/${ids[0]}/stats?stream=false`)], 'raw stats'),
      rounds: RS,
    },
    {
      read: `get-app-stats, ${N} apps`,
      rawLabel: `${N} stats calls in parallel`,
      ours: (via) => parallel([() => ours(via, `/${facility}/get-app-stats`)], 'stats all'),
      raw: () =>
        parallel(
          ids.map((id) => () => raw(`/containers/${id}/stats?stream=false`)),
          'raw stats all',
        ),
      rounds: RS,
    },
  ];
  if (values.stopped)
    cases.splice(
      cases.findIndex((c) => c.read.startsWith('get-app-stats')),
      2,
    ); // no stats of stopped apps
  if (VIA.includes('nginx')) deployment = await startDeployment();
  // warm-up: every path twice each side (route modules, Engine caches, the token row)
  for (const c of cases) for (let k = 0; k < 2; k++) await Promise.all([c.raw?.(), c.floor?.(), ...VIA.map((v) => c.ours(v))]);
  const times = new Map(cases.map((c) => [c.read, { raw: [] as number[], floor: [] as number[], ...Object.fromEntries(VIA.map((v) => [v, [] as number[]])) } as Record<string, number[]>]));
  for (let round = 0; round < R; round++) {
    for (const c of cases) {
      if (round >= c.rounds) continue;
      const t = times.get(c.read)!;
      // raw first on odd rounds, last on even ones; our paths in turn
      const sides = [...VIA, ...(c.floor ? ['floor'] : [])];
      const raws = c.raw ? ['raw'] : [];
      const order = round % 2 ? [...raws, ...sides] : [...sides, ...raws];
      for (const side of order) t[side].push(await (side === 'raw' ? c.raw!() : side === 'floor' ? c.floor!() : c.ours(side)));
    }
  }
  console.log(
    `\n${N} ${values.stopped ? 'created (stopped)' : 'running'} apps, Engine API ${engine.apiVersion}, Node ${process.version}; curl time_total medians (n=${R}; stats n=${RS}), interleaved; load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}\n`,
  );
  const heads = VIA.map((v) => (v === 'runner' ? 'runner' : 'nginx + bundle'));
  console.log(`| read | ${heads.map((h) => `${h} | ratio | difference`).join(' | ')} | raw Engine | Node pass-through | raw call(s) |`);
  console.log(`|---|${VIA.map(() => '---|---|---|').join('')}---|---|---|`);
  for (const c of cases) {
    const t = times.get(c.read)!;
    const r = t.raw.length ? median(t.raw) : undefined;
    const cols = VIA.map((v) => {
      const o = median(t[v]);
      return r === undefined ? `${fmt(o)} ms | | ` : `${fmt(o)} ms | ${(o / r).toFixed(1)}x | ${o >= r ? '+' : '−'}${fmt(Math.abs(o - r))} ms`;
    });
    const f = t.floor.length && r !== undefined ? median(t.floor) : undefined;
    console.log(`| ${c.read} | ${cols.join(' | ')} | ${r === undefined ? '' : `${fmt(r)} ms`} | ${f === undefined ? '' : `${fmt(f)} ms (+${fmt(f - r!)})`} | ${c.rawLabel} |`);
  }
  console.log(`\nRSS after the latency runs: ${rssLine()}`);
  const C = Number(values.clients);
  const S = Number(values.seconds);
  if (C > 0) {
    // interleaved: raw, then each of our paths, twice (the rate limiters are off)
    const rawT: number[] = [];
    const oursT: Record<string, number[]> = Object.fromEntries(VIA.map((v) => [v, []]));
    const before = await engineListCalls();
    let answered = 0;
    for (let i = 0; i < 2; i++) {
      rawT.push((await throughput({ socketPath: socket, path: `/v${engine.apiVersion}/containers/json?all=1&filters=${filter()}` }, C, S)).perSecond);
      for (const v of VIA) {
        const t = await throughput({ port: Number(new URL(bases[v]).port), path: `/${facility}/get-app-status`, headers: { authorization: `Bearer ${token}` } }, C, S);
        oursT[v].push(t.perSecond);
        if (v === 'runner') answered += t.done;
      }
    }
    const listCalls = (await engineListCalls()) - before;
    const r = Math.max(...rawT);
    console.log(
      `\n${C} concurrent keep-alive clients, ${S} s per side, best of 2 interleaved; load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}:\n`,
    );
    console.log(`| throughput | ${heads.map((h) => `${h} | ratio`).join(' | ')} | raw Engine |`);
    console.log(`|---|${VIA.map(() => '---|---|').join('')}---|`);
    console.log(`| get-app-status, all ${N} apps | ${VIA.map((v) => `${Math.max(...oursT[v]).toFixed(0)} req/s | ${(Math.max(...oursT[v]) / r).toFixed(2)}x`).join(' | ')} | ${r.toFixed(0)} req/s |`);
    if (VIA.includes('runner')) console.log(`\nrunner: Engine list calls per answered request (coalescing): ${(listCalls / answered).toFixed(2)} (${listCalls} for ${answered})`);
    console.log(`\nRSS after the throughput run: ${rssLine()}`);
  }
} finally {
  for (const user of users) {
    const list = await engine.listContainers({ all: true, filters: { label: [`${LABELS.user}=${user}`] } });
    await Promise.all(list.map((c) => engine.removeContainer(c.Id, { force: true, v: true })));
    // and the user's network (core/user-network.ts)
    // (the Engine may still hold a removed container's endpoint for a moment: a few tries)
    for (const n of await engine.listNetworks({ filters: { label: [`${NETWORK_LABELS.user}=${user.toLowerCase()}`] } })) {
      let why = '';
      for (let k = 0; k < 5; k++) {
        why = await engine.removeNetwork(n.Id).then(
          () => '',
          (e: Error) => e.message,
        );
        if (!why) break;
        await new Promise((r) => setTimeout(r, 1000));
      }
      // seen after 500 removals at once: the Engine keeps a stale endpoint until dockerd restarts
      if (why) console.error(`bench: could not remove network ${n.Name} (${why}); after a restart of dockerd: docker network rm ${n.Name}`);
    }
  }
  for (let i = 0; i < N; i++) await engine.call({ method: 'DELETE', path: `/images/src-test/b${i}:bench`, statusCodes: { 200: true, 404: 'gone' } }).catch(() => undefined);
  await engine.call({ method: 'DELETE', path: `/images/src-test/bench-idle:${runId}`, statusCodes: { 200: true, 404: 'gone' } }).catch(() => undefined);
  await deployment?.stop();
  if (built) rmSync(built, { recursive: true, force: true });
  floorProc.kill('SIGTERM');
  runner.kill('SIGTERM');
  await new Promise((r) => runner.once('exit', r));
  rmSync(dir, { recursive: true, force: true });
  rmSync(dirname(runnerFile), { recursive: true, force: true });
}
process.exit(0);
