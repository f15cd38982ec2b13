/**
 * The cost of the app gateway: a small page of an httpd app (src-test/httpd) fetched directly
 * from the container's address and through the runner's embedded gateway (`npm start`'s, in
 * its own process) (cookie checked,
 * token and app re-checked with their 1 s cache, streamed proxy), interleaved so both see the
 * same machine load. Prints p50/p90 latency of sequential requests and the throughput of
 * `--concurrency` parallel clients in `--seconds` interleaved one-second slices each way. Not a test: numbers depend on the
 * machine (the issue's goal: at most +2 ms p50, at least 70% of the direct throughput).
 *
 *   bash scripts/build-test-images.sh && npx tsx scripts/bench-gateway.ts [--via runner|nginx] [--n 1000] [--concurrency 16] [--seconds 5]
 *
 * `--profile DIR` runs the runner with `node --cpu-prof` (see scripts/profile-summary.ts).
 * `--via nginx` measures the production gateway instead: nginx from scripts/gen-nginx.ts
 * (`auth_request` to the authorize-app bundle, its answer cached for 1 s per app and cookies)
 * in front of the bundles on sqld (scripts/local-deploy.ts).
 *
 * Uses its own data directory and facility file under a temporary directory, the local Engine,
 * and removes its app at the end.
 * @module
 */
import { parseArgs } from 'node:util';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'node:http';
import { spawn } from 'node:child_process';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '1000' },
    warmup: { type: 'string', default: '100' },
    concurrency: { type: 'string', default: '16' },
    seconds: { type: 'string', default: '5' },
    image: { type: 'string', default: 'src-test/httpd:latest' },
    via: { type: 'string', default: 'runner' },
    profile: { type: 'string' },
  },
});

const dir = mkdtempSync(join(tmpdir(), 'src-bench-gateway-'));
const configPath = join(dir, 'facilities.json');
writeFileSync(configPath, JSON.stringify({ facilities: { bench: { mode: 'solo', images: { approved: ['docker.io/src-test/*'] } } } }));
process.env.SRC_CONFIG = configPath;
process.env.SRC_DATA_DIR = dir;
process.env.SRC_UPTIME_CRON = 'off';

const { freePort, startLocalDeployment } = await import('./local-deploy.ts');
const { generateToken } = await import('../core/auth.ts');
const adminToken = generateToken();
/** The API's and the gateway's port on 127.0.0.1, and how to stop what was started. */
let port: number;
let stop: () => Promise<void>;
if (values.via === 'nginx') {
  // production: nginx (auth_request to authorize-app, its answer cached) in front of the bundles on sqld
  const { buildFunctions } = await import('./build.ts');
  const dist = join(dir, 'dist');
  const only = ['outline', 'authorize-app', 'open-app', 'create-app', 'start-app', 'delete-app', 'get-app-info'];
  await buildFunctions({ outdir: dist, quiet: true, only });
  const d = await startLocalDeployment({
    dist,
    config: configPath,
    functions: Object.fromEntries(only.map((f) => [f, ['node' as const]])),
    env: { SRC_ADMIN_TOKEN: adminToken, SRC_GATEWAY_URL: 'http://*.apps.localhost:{PROXY_PORT}/', SRC_RATE_LIMIT: '0' },
    proxy: { gateway: { serverName: '*.apps.localhost' } },
  });
  port = Number(new URL(d.url).port);
  process.env.SRC_DB_URL = d.dbUrl;
  stop = () => d.stop();
} else {
  port = await freePort();
  process.env.SRC_GATEWAY_URL = `http://*.apps.localhost:${port}/`;
  // the runner in its own process, as `npm start` runs it (the load generator must not share its thread)
  const prof = values.profile ? ['--cpu-prof', `--cpu-prof-dir=${values.profile}`] : [];
  const runner = spawn(process.execPath, [...prof, '--import', 'tsx', 'wrangler-local/main.ts'], {
    env: { ...process.env, PORT: String(port), SRC_ADMIN_TOKEN: adminToken, SRC_RATE_LIMIT: '0' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  stop = async () => {
    const exited = new Promise((r) => runner.once('exit', r));
    runner.kill('SIGTERM');
    await exited; // (the profile is written at exit)
  };
  for (let i = 0; ; i++) {
    const up = await fetch(`http://127.0.0.1:${port}/`).then(
      () => true,
      () => false,
    );
    if (up) break;
    if (i > 300) throw new Error('the runner did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
}
const { mintToken } = await import('../core/auth.ts');
const user = `bench${Math.random().toString(36).slice(2, 8)}`;
const { token } = await mintToken({ role: 'user', user, name: 'bench-gateway' });
const agent = new Agent({ keepAlive: true, maxSockets: 256 });

/** One GET over node:http: status, and the body read to its end. */
function get(host: string, port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, headers, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, ms: performance.now() - t0 }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function api(method: string, path: string): Promise<any> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`, { method, headers: { authorization: `Bearer ${token}` } });
  const body = await r.json();
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(body)}`);
  return body;
}

const quantile = (s: number[], q: number) => s[Math.min(s.length - 1, Math.floor((s.length - 1) * q))];
let name = '';
try {
  const created = await fetch(`http://127.0.0.1:${port}/bench/create-app?image=${values.image}&user=${user}`, { method: 'POST', headers: { authorization: `Bearer ${adminToken}` } });
  const c = (await created.json()) as { name: string };
  if (created.status !== 201) throw new Error(`create-app: ${created.status} ${JSON.stringify(c)}`);
  name = c.name;
  await api('POST', `/bench/start-app?name=${name}`);
  const open = await api('POST', `/bench/open-app?name=${name}`);
  const host = new URL(open.appUrl).host;
  const u = new URL(open.url);
  const ex = await get('127.0.0.1', port, `${u.pathname}${u.search}`, { host });
  const cookie = String((ex.headers['set-cookie'] as string[])[0]).split(';')[0];
  const info = await api('GET', `/bench/get-app-info?name=${name}`);
  const ip = Object.values(info.NetworkSettings.Networks as Record<string, { IPAddress: string }>)[0].IPAddress;
  const direct = () => get(ip, 80, '/');
  const gateway = () => get('127.0.0.1', port, '/', { host, cookie });
  if ((await gateway()).status !== 200) throw new Error('the gateway does not serve the app');

  const n = Number(values.n);
  for (let i = 0; i < Number(values.warmup); i++) {
    await direct();
    await gateway();
  }
  const d: number[] = [];
  const g: number[] = [];
  for (let i = 0; i < n; i++) {
    d.push((await direct()).ms);
    g.push((await gateway()).ms);
  }
  d.sort((a, b) => a - b);
  g.sort((a, b) => a - b);
  console.log(`latency, ${n} sequential requests each way (GET / of ${values.image}, ${(await direct()).status}):`);
  console.log(`  direct   p50 ${quantile(d, 0.5).toFixed(2)} ms  p90 ${quantile(d, 0.9).toFixed(2)} ms`);
  console.log(`  gateway  p50 ${quantile(g, 0.5).toFixed(2)} ms  p90 ${quantile(g, 0.9).toFixed(2)} ms  (+${(quantile(g, 0.5) - quantile(d, 0.5)).toFixed(2)} ms p50)`);

  const seconds = Number(values.seconds);
  const concurrency = Number(values.concurrency);
  /** Completed 200s per second of `concurrency` clients calling `fn` for `ms`. */
  async function throughput(fn: () => Promise<{ status: number }>, ms: number): Promise<number> {
    const until = performance.now() + ms;
    let done = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < until) {
          if ((await fn()).status === 200) done++;
        }
      }),
    );
    return done;
  }
  // interleaved one-second slices, so both ways see the same machine load
  let td = 0;
  let tg = 0;
  for (let i = 0; i < seconds; i++) {
    td += await throughput(direct, 1000);
    tg += await throughput(gateway, 1000);
  }
  td /= seconds;
  tg /= seconds;
  console.log(`throughput, ${concurrency} concurrent clients, ${seconds} interleaved 1 s slices each way:`);
  console.log(`  direct   ${td.toFixed(0)} req/s`);
  console.log(`  gateway  ${tg.toFixed(0)} req/s  (${((100 * tg) / td).toFixed(0)}% of direct)`);
} finally {
  if (name) await fetch(`http://127.0.0.1:${port}/bench/delete-app?name=${name}`, { method: 'POST', headers: { authorization: `Bearer ${adminToken}` } }).catch(() => undefined);
  agent.destroy();
  await stop();
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}
