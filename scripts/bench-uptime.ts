/**
 * `npx tsx scripts/bench-uptime.ts [--apps 50] [--runs 20] [--days 30]`: measures the uptime job
 * and the month summary on this machine, with their own temporary database (never ./data).
 *
 * 1. The job's time per run for N apps (default 50, half of them running) on the local Engine:
 *    the first run, steady runs (no change; the Engine's buffer covers the window), runs after
 *    10 apps were stopped or started, and a run that must reconcile (anchor lost: every app
 *    inspected). Medians, p95 and max.
 * 2. The month summary (`get-uptime-summary?duration=month`, default and detail) on a database
 *    holding D days (default 30) of one-minute samples of one app, plus a transition every
 *    ~2 hours; the query through the core function and through the route function.
 * Removes the apps it created and its database.
 */
import { parseArgs } from 'node:util';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const { values } = parseArgs({ options: { apps: { type: 'string', default: '50' }, runs: { type: 'string', default: '20' }, days: { type: 'string', default: '30' } } });
const N = Number(values.apps);
const RUNS = Number(values.runs);
const DAYS = Number(values.days);

const dir = mkdtempSync(join(tmpdir(), 'src-bench-uptime-'));
process.env.SRC_DATA_DIR = dir;
delete process.env.SRC_DB_URL;

const { parseConfig, setConfig } = await import('../core/config.ts');
/** The test images, approved for the bench facilities (create-app needs an approved image). */
const APPROVED = { approved: ['docker.io/src-test/*'] };
const FAC = `bench${Math.random().toString(36).slice(2, 6)}`;
setConfig(parseConfig({ facilities: { [FAC]: { publishHost: '127.0.0.1', images: APPROVED } } }, 'bench-uptime'));
const { getFacility } = await import('../core/facility.ts');
const { createApp, startApp, stopApp } = await import('../core/apps.ts');
const { parseImageReference } = await import('../core/reference.ts');
const { runUptimeJob } = await import('../core/uptime-job.ts');
const { uptimeSummary, uptimeSummaryJson } = await import('../core/uptime-summary.ts');
const { uptimeDb } = await import('../core/uptime-store.ts');
const { nsToIso, msToNs } = await import('../core/uptime-model.ts');
const { closeDb } = await import('../core/store.ts');
const { LABELS } = await import('../core/naming.ts');
const { NETWORK_LABELS } = await import('../core/user-network.ts');

const f = getFacility(FAC);
const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return `median ${q(0.5).toFixed(1)} ms, p95 ${q(0.95).toFixed(1)} ms, max ${s[s.length - 1].toFixed(1)} ms (n=${s.length})`;
};
const timed = async <T>(fn: () => Promise<T>): Promise<[number, T]> => {
  const t = performance.now();
  const r = await fn();
  return [performance.now() - t, r];
};

const names: string[] = [];
try {
  // --- 1. the job, N apps ---------------------------------------------------------------------
  // an app is IMAGE--USER: each app gets an image tag of its own, and a user holds 25 apps (one
  // user network each: hundreds of users would exhaust the Engine's address pools)
  const t0 = performance.now();
  for (let i = 0; i < N; i++) await f.engine.tagImage('src-test/busybox:latest', `src-test/${FAC}-${i}`, 'bench');
  for (let i = 0; i < N; i += 10) {
    const batch = await Promise.all(Array.from({ length: Math.min(10, N - i) }, (_, j) => createApp(f, parseImageReference(`src-test/${FAC}-${i + j}:bench`), `u${Math.floor((i + j) / 25)}`)));
    names.push(...batch.map((a) => a.name));
  }
  const toStart = names.filter((_, i) => i % 2 === 0);
  for (let i = 0; i < toStart.length; i += 10) await Promise.all(toStart.slice(i, i + 10).map((n) => startApp(f, n))); // 250 at once: Engine timeouts
  console.log(`set-up: ${N} apps (${Math.ceil(N / 2)} running) in ${((performance.now() - t0) / 1000).toFixed(1)} s; Engine ${(await f.engine.version()).Version}`);

  const run = async () => {
    const [ms, r] = await timed(() => runUptimeJob({ facilities: [FAC] }));
    const fr = r.facilities[0];
    if (!['first-run', 'recorded'].includes(fr.outcome)) throw new Error(JSON.stringify(fr));
    return { ms, fr };
  };
  const first = await run();
  console.log(`job, first run (${N} apps): ${first.ms.toFixed(1)} ms, ${first.fr.transitions} transitions`);
  const steady: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const r = await run();
    if (r.fr.covered) steady.push(r.ms);
  }
  console.log(`job, steady run (${N} apps, no change): ${stats(steady)}`);
  const changed: number[] = [];
  for (let i = 0; i < 5; i++) {
    await Promise.all(names.slice(0, 10).map((n, j) => ((i + j) % 2 ? stopApp(f, n, 1) : startApp(f, n)).catch(() => undefined)));
    const r = await run();
    changed.push(r.ms);
  }
  console.log(`job, run after 10 apps changed state (${N} apps): ${stats(changed)}`);
  const db = await uptimeDb();
  const recon: number[] = [];
  for (let i = 0; i < 5; i++) {
    await db.execute({ sql: 'UPDATE uptime_checkpoints SET anchor = NULL WHERE facility = ?', args: [FAC] });
    const r = await run();
    if (r.fr.covered !== false) throw new Error('expected a reconciling run');
    recon.push(r.ms);
  }
  console.log(`job, reconciling run (anchor lost: ${N} inspects): ${stats(recon)}`);

  // --- 2. month summary, 30 days of one-minute samples for one app -------------------------------
  const SFAC = `${FAC}m`;
  setConfig(parseConfig({ facilities: { [FAC]: { publishHost: '127.0.0.1', images: APPROVED }, [SFAC]: { publishHost: '127.0.0.1', images: APPROVED } } }, 'bench-uptime'));
  const app = 'jupyter-lab--alice';
  const now = Date.now();
  const start = now - DAYS * 86_400_000;
  const tl = performance.now();
  let rows = 0;
  for (let day = 0; day < DAYS; day++) {
    const stmts = [];
    for (let m = 0; m < 1440; m++) {
      const ms = start + (day * 1440 + m) * 60_000 + 137;
      const up = Math.floor((day * 1440 + m) / 120) % 7 !== 3; // down one 2-hour block in 7
      stmts.push({ sql: 'INSERT INTO uptime_samples (facility, app, at, state) VALUES (?, ?, ?, ?)', args: [SFAC, app, nsToIso(msToNs(ms)), up ? 'running' : 'not-running'] });
      if (m % 120 === 0) {
        stmts.push({
          sql: "INSERT INTO uptime_transitions (facility, app, at, state, source, action) VALUES (?, ?, ?, ?, 'event', ?)",
          args: [SFAC, app, nsToIso(msToNs(ms - 5_000)), up ? 'running' : 'not-running', up ? 'start' : 'die'],
        });
      }
      rows++;
    }
    await db.batch(stmts, 'write');
  }
  await db.execute({ sql: "INSERT INTO uptime_checkpoints (facility, checkpoint_at, snapshot, runs) VALUES (?, ?, '{}', 1)", args: [SFAC, nsToIso(msToNs(now))] });
  console.log(
    `month data: ${rows} samples of one app (${DAYS} days) loaded in ${((performance.now() - tl) / 1000).toFixed(1)} s; database ${(statSync(join(dir, 'src.db')).size / 1e6).toFixed(1)} MB (+WAL)`,
  );

  const sf = getFacility(SFAC);
  const plain: number[] = [];
  const detail: number[] = [];
  const asText: number[] = [];
  let keys = 0;
  let bytes = 0;
  for (let i = 0; i < 15; i++) {
    const [a, p] = await timed(() => uptimeSummary(sf, app, 'month', { nowMs: now }));
    const [b] = await timed(() => uptimeSummary(sf, app, 'month', { nowMs: now, detail: true }));
    const [c] = await timed(() => uptimeSummaryJson(sf, app, 'month', { nowMs: now }));
    asText.push(c);
    plain.push(a);
    detail.push(b);
    keys = Object.keys(p).length;
  }
  console.log(`month summary (core, default, ${keys} keys): ${stats(plain.slice(3))}`);
  console.log(`month summary (core, detail=true): ${stats(detail.slice(3))}`);
  console.log(`month summary (core, default as JSON text, what the route sends): ${stats(asText.slice(3))}`);
  const route = (await import('../functions/get-uptime-summary.ts')).default;
  const viaRoute: number[] = [];
  process.env.SRC_ADMIN_TOKEN ??= (await import('../core/auth.ts')).generateToken();
  for (let i = 0; i < 10; i++) {
    const [ms, res] = await timed(async () => {
      const r = await route.fetch(new Request(`http://bench/${SFAC}/get-uptime-summary?name=${app}&duration=month`, { headers: { authorization: `Bearer ${process.env.SRC_ADMIN_TOKEN}` } }));
      const text = await r.text();
      if (r.status !== 200) throw new Error(`${r.status} ${text}`);
      return text;
    });
    viaRoute.push(ms);
    bytes = res.length;
  }
  console.log(`month summary (route function, default, ${(bytes / 1024).toFixed(0)} KiB JSON): ${stats(viaRoute.slice(2))}`);
} finally {
  await Promise.all(
    (await f.engine.listContainers({ all: true, filters: { label: [`${LABELS.facility}=${FAC}`] } })).map((c) => f.engine.removeContainer(c.Id, { force: true, v: true }).catch(() => undefined)),
  );
  // (the Engine may still hold a removed container's endpoint for a moment: a few tries)
  for (const n of await f.engine.listNetworks({ filters: { label: [`${NETWORK_LABELS.facility}=${FAC}`] } })) {
    for (let k = 0; k < 5; k++) {
      if (
        await f.engine.removeNetwork(n.Id).then(
          () => true,
          () => false,
        )
      )
        break;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  for (let i = 0; i < N; i++) await f.engine.removeImage(`src-test/${FAC}-${i}:bench`).catch(() => undefined);
  await closeDb();
  rmSync(dir, { recursive: true, force: true });
}
