/**
 * `npm run bench`: measures the API against the raw Engine API in the same run.
 *
 * Creates N apps (default 10; `--apps N`) for a unique user on the local Engine, then reports
 * medians and p95 over R rounds (default 200; `--rounds R`) of:
 *   - raw Engine `GET /containers/json?all=1` (docker-modem)   vs  API `get-app-status` (in-process)
 *   - raw Engine inspect of one container                        vs  API `get-app-status?name=`
 *   - raw Engine stats of all N apps one after another          vs  API `get-app-stats` (concurrent)
 * Removes what it created. Needs the test images (scripts/build-test-images.sh).
 */
import { parseArgs } from 'node:util';
import { mkdirSync, writeFileSync } from 'node:fs';
import { buildApp } from '../wrangler-local/app.ts';
import { Engine } from '../core/engine.ts';
import { LABELS } from '../core/naming.ts';
import { NETWORK_LABELS } from '../core/user-network.ts';
import { generateToken } from '../core/auth.ts';

const { values } = parseArgs({ options: { apps: { type: 'string', default: '10' }, rounds: { type: 'string', default: '200' } } });
const N = Number(values.apps);
const R = Number(values.rounds);
process.env.SRC_ADMIN_TOKEN ??= generateToken();
process.env.SRC_DATA_DIR ??= `/tmp/src-bench-${process.pid}`;
// the bench's own facility: the local Engine, the test images pre-approved
const benchConfig = `${process.env.SRC_DATA_DIR}/bench-config.json`;
mkdirSync(process.env.SRC_DATA_DIR, { recursive: true });
writeFileSync(benchConfig, JSON.stringify({ facilities: { demo: { images: { approved: ['docker.io/src-test/*'] } } } }));
process.env.SRC_CONFIG ??= benchConfig;
const token = process.env.SRC_ADMIN_TOKEN;
const app = buildApp({ log: false, rateLimit: 0 });
const engine = new Engine({ host: process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock' });
const user = `bench${Math.random().toString(36).slice(2, 8)}`;

async function api(method: string, path: string): Promise<any> {
  const res = await app.fetch(new Request(`http://bench${path}`, { method, headers: { authorization: `Bearer ${token}` } }));
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

async function measure(label: string, rounds: number, fn: () => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < Math.min(10, rounds); i++) await fn(); // warm-up
  const t: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const s = performance.now();
    await fn();
    t.push(performance.now() - s);
  }
  t.sort((a, b) => a - b);
  const q = (p: number) => t[Math.min(t.length - 1, Math.floor(p * t.length))].toFixed(2);
  console.log(`${label.padEnd(58)} median ${q(0.5).padStart(8)} ms   p95 ${q(0.95).padStart(8)} ms   (n=${rounds})`);
  return t;
}

const names: string[] = [];
try {
  for (let i = 0; i < N; i++) {
    await engine.call({ method: 'POST', path: `/images/src-test/busybox:latest/tag`, query: { repo: `src-test/b${i}`, tag: 'bench' }, statusCodes: { 201: true } });
    const r = await api('POST', `/demo/create-app?image=src-test/b${i}:bench&user=${user}`);
    await api('POST', `/demo/start-app?name=${r.name}`);
    names.push(r.name);
  }
  console.log(`${N} running apps; Engine API ${engine.apiVersion ?? '(negotiating)'}`);
  await measure('raw Engine GET /containers/json?all=1 (all containers)', R, () => engine.listContainers({ all: true }));
  await measure('API get-app-status (every app)', R, () => api('GET', '/demo/get-app-status'));
  await measure('raw Engine GET /containers/{id}/json', R, () => engine.inspectContainer(names[0]));
  await measure('API get-app-status?name= (one app)', R, () => api('GET', `/demo/get-app-status?name=${names[0]}`));
  const r2 = Math.max(3, Math.floor(R / 50));
  await measure(`raw Engine stats of ${N} apps, one after another`, r2, async () => {
    for (const n of names) await engine.containerStats(n);
  });
  await measure(`API get-app-stats (${N} apps, concurrent)`, r2, () => api('GET', `/demo/get-app-stats?name=${names.join(',')}`));
} finally {
  const list = await engine.listContainers({ all: true, filters: { label: [`${LABELS.user}=${user}`] } });
  await Promise.all(list.map((c) => engine.removeContainer(c.Id, { force: true, v: true })));
  // and the user's network (core/user-network.ts)
  for (const n of await engine.listNetworks({ filters: { label: [`${NETWORK_LABELS.user}=${user.toLowerCase()}`] } })) await engine.removeNetwork(n.Id).catch(() => undefined);
  for (let i = 0; i < N; i++) await engine.call({ method: 'DELETE', path: `/images/src-test/b${i}:bench`, statusCodes: { 200: true, 404: 'gone' } }).catch(() => undefined);
}
process.exit(0);
