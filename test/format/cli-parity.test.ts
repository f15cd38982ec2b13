/**
 * Live parity: containers created on the real Engine (created, running with an engine-chosen
 * 127.0.0.1 port, paused, exited, a CPU-busy one), then the docker CLI 28's
 * `docker ps -a [-s] --format json`, `docker stats --no-stream --format json` and
 * `docker images --format json` compared field by field with core/format fed the Engine API's
 * own responses, under TZ=UTC, Europe/Berlin and America/New_York.
 *
 * Engine responses are taken right before and right after each CLI run: values that can move
 * between the two (relative times, Status, memory, network counters) must equal one of them.
 */
import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatContainerSummary, type ContainerSummaryJson, type EngineContainerSummary } from '../../core/format/containers.ts';
import { cliJsonLine } from '../../core/format/go.ts';
import { formatImageSummary, type EngineImageSummary, type ImageJson } from '../../core/format/images.ts';
import { computeStats, formatStats, type EngineStats, type StatsJson } from '../../core/format/stats.ts';
import { timeAgo } from '../../core/format/units.ts';
import { betweenInTime } from '../cli.ts';

const SOCKET = '/var/run/docker.sock';
const DOCKER = '/usr/local/bin/docker';
const RUN = Math.random().toString(36).slice(2, 10);
const PREFIX = `fmt-${RUN}-`;
const RUN_LABEL = `io.src-container-api.format-run=${RUN}`;
const ZONES = ['UTC', 'Europe/Berlin', 'America/New_York'];

interface Answer {
  status: number;
  body: any;
}

function api(method: string, path: string, body?: unknown): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      {
        socketPath: SOCKET,
        method,
        path: `/v1.41${path}`,
        headers: payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {},
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => {
          let parsed: unknown = text;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            // plain-text answer
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on('error', reject);
    if (payload) req.write(payload);
    req.end();
  });
}

async function ok(method: string, path: string, body?: unknown): Promise<any> {
  const a = await api(method, path, body);
  if (a.status >= 300) throw new Error(`${method} ${path}: ${a.status} ${JSON.stringify(a.body)}`);
  return a.body;
}

function cli(args: string[], tz: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(DOCKER, args, { env: { ...process.env, TZ: tz }, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`docker ${args.join(' ')}: ${err.message} ${stderr}`));
      else resolve(stdout);
    });
  });
}

const jsonLines = <T>(s: string): T[] =>
  s
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as T);

const filterQuery = encodeURIComponent(JSON.stringify({ label: [RUN_LABEL] }));
const listContainers = (size = false): Promise<EngineContainerSummary[]> => ok('GET', `/containers/json?all=1${size ? '&size=1' : ''}&filters=${filterQuery}`);

/** RunningFor/CreatedSince values possible for a CLI run between `t0` and `t1` (ms). */
function agoWindow(createdSec: number, t0: number, t1: number): Set<string> {
  const out = new Set<string>();
  for (let t = t0 - 1000; t <= t1 + 1000; t += 100) out.add(timeAgo(createdSec, new Date(t)));
  return out;
}

const ids: Record<string, string> = {};

async function createContainer(role: string, image: string, cmd: string[] | undefined, extra: Record<string, unknown> = {}): Promise<string> {
  const name = PREFIX + role;
  const body = {
    Image: image,
    ...(cmd ? { Cmd: cmd } : {}),
    Labels: { 'io.src-container-api.test': 'format', 'io.src-container-api.format-run': RUN, 'fmt.role': role },
    ...extra,
  };
  const created = await ok('POST', `/containers/create?name=${name}`, body);
  ids[role] = created.Id;
  return created.Id;
}

async function ensureImages(): Promise<void> {
  for (const img of ['src-test/busybox:latest', 'src-test/httpd:latest']) {
    const a = await api('GET', `/images/${encodeURIComponent(img)}/json`);
    if (a.status === 404) {
      await new Promise<void>((resolve, reject) => execFile('bash', ['scripts/build-test-images.sh'], { env: { ...process.env, DOCKER } }, (err) => (err ? reject(err) : resolve())));
    }
  }
}

beforeAll(async () => {
  await ensureImages();
  await createContainer('created', 'src-test/busybox:latest', ['sh', '-c', 'echo "created only" && sleep 100']);
  await createContainer('web', 'src-test/httpd:latest', undefined, {
    HostConfig: { PortBindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] } },
  });
  await createContainer('paused', 'src-test/busybox:latest', undefined);
  await createContainer('exited', 'src-test/busybox:latest', ['sh', '-c', 'echo bye; exit 3']);
  // capped at half a core, so that it does not slow the rest of the suite on a 2-core machine
  await createContainer('busy', 'src-test/busybox:latest', ['sh', '-c', 'while :; do :; done'], { HostConfig: { NanoCpus: 500_000_000 } });
  for (const role of ['web', 'paused', 'exited', 'busy']) await ok('POST', `/containers/${ids[role]}/start`);
  await ok('POST', `/containers/${ids.exited}/wait`);
  await ok('POST', `/containers/${ids.paused}/pause`);
  // let the busy loop and the start-up settle so CPU % is steady
  await new Promise((r) => setTimeout(r, 1500));
});

afterAll(async () => {
  const left: EngineContainerSummary[] = await listContainers().catch(() => []);
  const all = new Set([...Object.values(ids), ...left.map((c) => c.Id)]);
  for (const id of all) await api('DELETE', `/containers/${id}?force=1&v=1`);
  const remaining: EngineContainerSummary[] = await listContainers().catch(() => []);
  expect(remaining).toEqual([]);
});

describe.each(ZONES)('TZ=%s', (tz) => {
  let savedTz: string | undefined;
  beforeAll(() => {
    savedTz = process.env.TZ;
    process.env.TZ = tz;
  });
  afterAll(() => {
    if (savedTz === undefined) delete process.env.TZ;
    else process.env.TZ = savedTz;
  });

  for (const size of [false, true]) {
    it(`docker ps -a ${size ? '-s ' : ''}--format json`, async () => {
      const before = await listContainers(size);
      const t0 = Date.now();
      const out = await cli(['ps', '-a', ...(size ? ['-s'] : []), '--format', 'json', '--filter', `label=${RUN_LABEL}`], tz);
      const t1 = Date.now();
      const after = await listContainers(size);
      const lines = out.split('\n').filter(Boolean);
      expect(lines).toHaveLength(5);
      const seenStates = new Set<string>();
      for (const line of lines) {
        const want = JSON.parse(line) as ContainerSummaryJson;
        const c = before.find((x) => x.Id.startsWith(want.ID))!;
        const c2 = after.find((x) => x.Id.startsWith(want.ID))!;
        expect(c, want.Names).toBeDefined();
        const got = formatContainerSummary(c, { now: new Date(t0) }); // the runtime's local zone
        expect(Object.keys(got)).toEqual(Object.keys(want));
        expect(agoWindow(c.Created, t0, t1)).toContain(want.RunningFor);
        expect(betweenInTime(want.Status, c.Status ?? '', c2.Status ?? ''), `${want.Names}: ${want.Status} vs ${c.Status} .. ${c2.Status}`).toBe(true);
        const fixed = { ...got, RunningFor: want.RunningFor, Status: want.Status };
        expect(cliJsonLine(fixed)).toBe(line + '\n');
        seenStates.add(want.State);
        if (want.Names.endsWith('-web')) {
          expect(want.Ports).toMatch(/^127\.0\.0\.1:\d+->80\/tcp$/);
          expect(line).toContain('-\\u003e80/tcp');
        }
        if (want.Names.endsWith('-paused')) expect(want.Status).toMatch(/^Up .* \(Paused\)$/);
        if (want.Names.endsWith('-exited')) expect(want.Status).toMatch(/^Exited \(3\) /);
        if (want.Names.endsWith('-created')) expect(want.Status).toBe('Created');
        expect(want.CreatedAt).toMatch(tz === 'UTC' ? / \+0000 UTC$/ : tz === 'Europe/Berlin' ? / \+0[12]00 CES?T$/ : / -0[45]00 E[SD]T$/);
        expect(want.Size).toMatch(size ? /^\d+(\.\d+)?k?B \(virtual 1\.98MB\)$/ : /^0B$/);
      }
      expect([...seenStates].sort()).toEqual(['created', 'exited', 'paused', 'running']);
    });
  }

  /** "1.5MiB", "2.3kB", "0.25%" -> a number (bytes or percent) for tolerance checks. */
  const sizeOrPercent = (x: string): number => {
    const m = /^([\d.]+)\s*(%|B|kB|MB|GB|KiB|MiB|GiB|TiB)$/.exec(x.trim());
    if (!m) throw new Error(`not a size or percentage: ${x}`);
    const mult: Record<string, number> = { '%': 1, B: 1, kB: 1e3, MB: 1e6, GB: 1e9, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4 };
    return Number(m[1]) * mult[m[2]];
  };

  it('docker stats --no-stream --format json (named, by ID, and without arguments)', async () => {
    const roles = ['web', 'paused', 'busy', 'created', 'exited'];
    const args = roles.map((r) => (r === 'busy' ? ids[r].slice(0, 10) : PREFIX + r));
    const sample = async (): Promise<Record<string, EngineStats>> => {
      const entries = await Promise.all(roles.map(async (r) => [r, await ok('GET', `/containers/${ids[r]}/stats?stream=false`)] as const));
      return Object.fromEntries(entries);
    };
    const [before, out] = await Promise.all([sample(), cli(['stats', '--no-stream', '--format', 'json', ...args], tz)]);
    const after = await sample();
    const lines = out.split('\n').filter(Boolean);
    expect(lines).toHaveLength(roles.length);
    lines.forEach((line, i) => {
      const want = JSON.parse(line) as StatsJson;
      const role = roles[i];
      expect(want.Container).toBe(args[i]); // as typed: a name, or an ID prefix
      const b = formatStats(computeStats(before[role]), { container: args[i] });
      const a = formatStats(computeStats(after[role]), { container: args[i] });
      expect(Object.keys(b)).toEqual(Object.keys(want));
      for (const k of ['BlockIO', 'Container', 'ID', 'Name', 'PIDs'] as const) {
        expect([b[k], a[k]], `${role} ${k}`).toContain(want[k]);
      }
      // memory and network of a live container move between samples on a loaded machine:
      // the same format, and a value within the two samples' range plus a small margin
      for (const k of ['MemPerc', 'MemUsage', 'NetIO'] as const) {
        if ([b[k], a[k]].includes(want[k])) continue;
        const nums = (x: string) => x.split(' / ').map(sizeOrPercent);
        const [wb, ba, aa] = [nums(want[k]), nums(b[k]), nums(a[k])];
        wb.forEach((w, j) => {
          const lo = Math.min(ba[j], aa[j]);
          const hi = Math.max(ba[j], aa[j]);
          const margin = Math.max(64 * 1024, hi * 0.1, 0.5);
          expect(w, `${role} ${k}[${j}]`).toBeGreaterThanOrEqual(lo - margin);
          expect(w, `${role} ${k}[${j}]`).toBeLessThanOrEqual(hi + margin);
        });
      }
      const cpu = parseFloat(want.CPUPerc);
      const ours = parseFloat(b.CPUPerc);
      expect(want.CPUPerc).toMatch(/^\d+\.\d\d%$/);
      if (role === 'busy') {
        // at most 50 % (its cap); two samples taken at different moments on a loaded machine
        expect(cpu).toBeGreaterThan(10);
        expect(ours).toBeGreaterThan(10);
        expect(Math.max(cpu, ours)).toBeLessThan(60);
        expect(Math.abs(cpu - ours)).toBeLessThan(30);
      } else {
        expect(Math.abs(cpu - ours)).toBeLessThan(5);
      }
      if (role === 'created' || role === 'exited') {
        expect(want).toMatchObject({ MemUsage: '0B / 0B', PIDs: '0', CPUPerc: '0.00%' });
        expect(b).toMatchObject({ MemUsage: '0B / 0B', PIDs: '0', CPUPerc: '0.00%' });
      } else {
        expect(want.MemUsage).toMatch(/^[\d.]+(B|KiB|MiB) \/ [\d.]+GiB$/);
      }
      // byte-exact line where nothing moves (stopped containers): every value as the CLI's
      if (role === 'created' || role === 'exited') expect(cliJsonLine(b)).toBe(line + '\n');
    });

    // without arguments the CLI lists the running containers itself: Container = 12-char ID
    const all = jsonLines<StatsJson>(await cli(['stats', '--no-stream', '--format', 'json'], tz));
    for (const role of ['web', 'busy', 'paused']) {
      const row = all.find((r) => r.ID === ids[role].slice(0, 12));
      expect(row, role).toBeDefined();
      expect(row!.Container).toBe(ids[role].slice(0, 12));
      expect(row!.Name).toBe(PREFIX + role);
    }
  });

  it('docker images --format json', async () => {
    // other suites may tag or rebuild images meanwhile: retry until the list is the same
    // before and after the CLI run
    const refs = (l: EngineImageSummary[]): string => JSON.stringify(l.map((i) => [i.Id, i.RepoTags]).sort());
    let before: EngineImageSummary[] = [];
    let after: EngineImageSummary[] = [];
    let out = '';
    let t0 = 0;
    let t1 = 0;
    for (let attempt = 0; attempt < 3; attempt++) {
      before = await ok('GET', '/images/json');
      t0 = Date.now();
      out = await cli(['images', '--format', 'json'], tz);
      t1 = Date.now();
      after = await ok('GET', '/images/json');
      if (refs(before) === refs(after)) break;
    }
    const key = (r: ImageJson): string => `${r.ID}|${r.Repository}|${r.Tag}`;
    const ours = new Map<string, ImageJson>();
    for (const img of before) for (const r of formatImageSummary(img, { now: new Date(t0) })) ours.set(key(r), r);
    const stable = new Set(after.flatMap((img) => formatImageSummary(img).map(key)));
    let compared = 0;
    const testImages = new Set<string>();
    for (const line of out.split('\n').filter(Boolean)) {
      const want = JSON.parse(line) as ImageJson;
      const k = key(want);
      if (!ours.has(k) || !stable.has(k)) continue; // tagged/removed by someone else meanwhile
      const got = ours.get(k)!;
      const created = before.find((i) => i.Id.includes(want.ID))!.Created;
      expect(agoWindow(created, t0, t1)).toContain(want.CreatedSince);
      expect(cliJsonLine({ ...got, CreatedSince: want.CreatedSince })).toBe(line + '\n');
      compared++;
      if (want.Repository.startsWith('src-test/')) testImages.add(`${want.Repository}:${want.Tag}`);
    }
    expect(compared).toBeGreaterThanOrEqual(2);
    expect(testImages).toContain('src-test/busybox:latest');
    expect(testImages).toContain('src-test/httpd:latest');
  });
});
