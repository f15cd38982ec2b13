/**
 * `npx tsx scripts/bench-pull.ts [--mb 8] [--layers 2] [--rounds 5]`: how long a pull of a few MB
 * takes through the API versus the raw Engine, in the same run, from the local registry
 * (scripts/registry.sh, 127.0.0.1:5001).
 *
 * Builds an image of `--mb` MB of random bytes in `--layers` layers on src-test/busybox, pushes
 * it, removes it locally, then alternates for `--rounds` rounds:
 *   - raw:  Engine `POST /images/create` read to the end (docker-modem), then `GET /images/{name}/json`
 *   - API:  `POST /{facility}/approve-image` (in-process), polling `get-image-requests?image=`
 *           every 5 ms until `pulled`; also the pull's own start-to-finish time from its record
 * removing the image after each pull. Uses its own database and facility; removes what it made.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { mb: { type: 'string', default: '8' }, layers: { type: 'string', default: '2' }, rounds: { type: 'string', default: '5' } } });
const MB = Number(values.mb);
const LAYERS = Number(values.layers);
const ROUNDS = Number(values.rounds);
const ROOT = new URL('..', import.meta.url).pathname;
const dataDir = mkdtempSync(join(tmpdir(), 'src-bench-pull-'));
process.env.SRC_DATA_DIR = dataDir;
delete process.env.SRC_DB_URL;

const { generateToken } = await import('../core/auth.ts');
process.env.SRC_ADMIN_TOKEN ??= generateToken();
const { parseConfig, setConfig } = await import('../core/config.ts');
setConfig(parseConfig({ facilities: { bench: { description: 'bench-pull' } } }, 'scripts/bench-pull.ts'));
const { buildApp } = await import('../wrangler-local/app.ts');
const { Engine, EngineError } = await import('../core/engine.ts');
const { settlePulls } = await import('../core/images/pull-worker.ts');
const { closeDb } = await import('../core/store.ts');

const app = buildApp({ log: false, rateLimit: 0 });
const engine = new Engine({ host: process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock' });
const holder = `${process.pid}-bench`;
const repo = `127.0.0.1:5001/bench-${Math.random().toString(36).slice(2, 8)}/pull`;
const ref = `${repo}:1`;

async function api(method: string, path: string): Promise<any> {
  const res = await app.fetch(new Request(`http://bench${path}`, { method, headers: { authorization: `Bearer ${process.env.SRC_ADMIN_TOKEN}` } }));
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}
async function drain(s: AsyncIterable<unknown>): Promise<string> {
  let text = '';
  const d = new TextDecoder();
  for await (const c of s) text += typeof c === 'string' ? c : d.decode(c as Uint8Array, { stream: true });
  return text;
}
async function rmi(r: string): Promise<void> {
  await engine.removeImage(r).catch((e) => {
    if (!(e instanceof EngineError && e.statusCode === 404)) throw e;
  });
}
const stats = (t: number[]) => {
  const s = [...t].sort((a, b) => a - b);
  return `median ${s[Math.floor(s.length / 2)].toFixed(0).padStart(5)} ms   min ${s[0].toFixed(0).padStart(5)}   max ${s[s.length - 1].toFixed(0).padStart(5)}`;
};

execFileSync('bash', [`${ROOT}scripts/registry.sh`, 'up', holder], { stdio: 'inherit' });
try {
  const kb = Math.round((MB * 1024) / LAYERS);
  execFileSync('bash', [`${ROOT}scripts/make-test-image.sh`, ref, ...Array(LAYERS).fill(String(kb))], { stdio: ['ignore', 'ignore', 'inherit'] });
  const pushed = await drain(await engine.pushImage(repo, '1'));
  if (pushed.includes('"error"')) throw new Error(pushed);
  await rmi(ref);
  const raw: number[] = [];
  const viaApi: number[] = [];
  const pullOnly: number[] = [];
  let bytes = 0;
  for (let i = 0; i < ROUNDS; i++) {
    let t = performance.now();
    const out = await drain(await engine.pullImage({ fromImage: repo, tag: '1' }));
    if (out.includes('"error"')) throw new Error(out);
    await engine.inspectImage(ref);
    raw.push(performance.now() - t);
    await rmi(ref);

    t = performance.now();
    let rec = await api('POST', `/bench/approve-image?image=${encodeURIComponent(ref)}`);
    while (rec.state === 'pulling' || rec.state === 'approved') {
      await new Promise((r) => setTimeout(r, 5));
      rec = (await api('GET', `/bench/get-image-requests?image=${encodeURIComponent(ref)}`))[0];
    }
    viaApi.push(performance.now() - t);
    if (rec.state !== 'pulled') throw new Error(JSON.stringify(rec));
    pullOnly.push(Date.parse(rec.pull.finishedAt) - Date.parse(rec.pull.startedAt));
    bytes = rec.pull.progress.bytes.done;
    await rmi(ref);
  }
  console.log(`pull of ${(bytes / 1e6).toFixed(1)} MB (${LAYERS} new layers + the base layer already present) from 127.0.0.1:5001, ${ROUNDS} rounds; Engine API ${engine.apiVersion}`);
  console.log(`raw Engine  POST /images/create to the end of the stream   ${stats(raw)}`);
  console.log(`API         approve-image -> get-image-requests "pulled"   ${stats(viaApi)}`);
  console.log(`API         the pull itself (record startedAt..finishedAt) ${stats(pullOnly)}`);
} finally {
  await settlePulls();
  await rmi(ref).catch(() => undefined);
  execFileSync('bash', [`${ROOT}scripts/registry.sh`, 'down', holder], { stdio: 'inherit' });
  await closeDb();
  rmSync(dataDir, { recursive: true, force: true });
}
