import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createApp, engine, IMAGES, removeUserApps, uniqueUser } from './helpers.ts';
import { cliJsonLines } from './cli.ts';
import { appStats, clearStatsBaselines } from '../core/app-reads.ts';
import { cpuPercentUnix, formatPercentage } from '../core/format/stats.ts';
import type { Batch } from '../core/batch.ts';

/** The values of a batch's successful outcomes. */
function values<T>(b: Batch<T>): T[] {
  return b.outcomes.flatMap((o) => (o.ok ? [o.value] : []));
}
import { getFacility } from '../core/facility.ts';
import type { Engine } from '../core/engine.ts';

const user = uniqueUser('sx');
const running = `httpd--${user}`;
const stopped = `busybox--${user}`;

beforeAll(async () => {
  await createApp(IMAGES.httpd, user);
  await createApp(IMAGES.busybox, user);
  expect((await call('POST', `/demo/start-app?name=${running}`)).status).toBe(200);
});
afterAll(() => removeUserApps(user));

/** "1.5MiB" -> bytes (binary units, as BytesSize prints). */
function bytes(s: string): number {
  const m = /^([\d.]+)([KMGTP]i)?B$/.exec(s.trim());
  if (!m) throw new Error(`not a size: ${s}`);
  return Number(m[1]) * 1024 ** (m[2] ? 'KMGTP'.indexOf(m[2][0]) + 1 : 0);
}

/** "1.01kB" -> bytes (decimal units, as HumanSizeWithPrecision prints). */
function decimalBytes(s: string): number {
  const m = /^([\d.]+)([kMGTP])?B$/.exec(s.trim());
  if (!m) throw new Error(`not a size: ${s}`);
  return Number(m[1]) * 1000 ** (m[2] ? 'kMGTP'.indexOf(m[2]) + 1 : 0);
}

describe('GET /{facility}/get-app-stats', () => {
  it('equals `docker stats --no-stream --format json` for a running and a stopped app', async () => {
    const [api, cli] = await Promise.all([call('GET', `/demo/get-app-stats?name=${running},${stopped}`), cliJsonLines(['stats', '--no-stream', '--format', 'json', running, stopped])]);
    expect(api.status).toBe(200);
    expect(api.body).toHaveLength(2);
    for (const expected of cli) {
      const got = api.body.find((x: any) => x.Name === expected.Name);
      // the CLI's fields, plus the window CPU % was measured over
      expect(Object.keys(got).sort()).toEqual([...Object.keys(expected), 'CPUWindowMs'].sort());
      for (const k of ['Container', 'ID', 'Name', 'PIDs', 'BlockIO']) expect(got[k], `${expected.Name}.${k}`).toBe(expected[k]);
      // a fresh container still receives a few link-local packets: same format, near-equal bytes
      expect(got.NetIO).toMatch(/^[\d.]+[kMGTP]?B \/ [\d.]+[kMGTP]?B$/);
      const [grx, gtx] = got.NetIO.split(' / ').map(decimalBytes);
      const [erx, etx] = expected.NetIO.split(' / ').map(decimalBytes);
      expect(Math.abs(grx - erx)).toBeLessThan(2000);
      expect(Math.abs(gtx - etx)).toBeLessThan(2000);
      const [gu, gl] = got.MemUsage.split(' / ');
      const [eu, el] = expected.MemUsage.split(' / ');
      expect(gl).toBe(el);
      expect(Math.abs(bytes(gu) - bytes(eu))).toBeLessThanOrEqual(Math.max(64 * 1024, bytes(eu) * 0.05));
      expect(Math.abs(parseFloat(got.CPUPerc) - parseFloat(expected.CPUPerc))).toBeLessThan(5);
      expect(got.CPUPerc).toMatch(/^\d+\.\d{2}%$/);
    }
    const stoppedStats = api.body.find((x: any) => x.Name === stopped);
    expect(stoppedStats).toMatchObject({ CPUPerc: '0.00%', MemUsage: '0B / 0B', PIDs: '0' });
  });

  it('without a name: every app, stopped ones too, sampled concurrently', async () => {
    const r = await call('GET', '/demo/get-app-stats');
    expect(r.status).toBe(200);
    const mine = r.body.filter((x: any) => x.Name.endsWith(`--${user}`));
    expect(mine.map((x: any) => x.Name).sort()).toEqual([stopped, running].sort());
    // the Engine needs ~1-2 s per running sample: they are asked for all at once
    const f = getFacility('demo');
    clearStatsBaselines(); // no kept samples: each read asks the Engine for two
    let inFlight = 0;
    let most = 0;
    const counting = Object.assign(Object.create(f.engine), {
      containerStats: async (id: string) => {
        most = Math.max(most, ++inFlight);
        try {
          return await f.engine.containerStats(id);
        } finally {
          inFlight--;
        }
      },
    }) as Engine;
    expect(values(await appStats({ ...f, engine: counting }, undefined, user)).length).toBe(2);
    expect(most).toBe(2);
  });

  it('an app removed between the listing and its sample: left out of "every app", 404 when named', async () => {
    const goneUser = uniqueUser('sg');
    const gone = `busybox--${goneUser}`;
    try {
      const f = getFacility('demo');
      // the real Engine, but the app is removed (for real) just before its sample is asked for
      const racing = (): Engine =>
        Object.assign(Object.create(f.engine), {
          containerStats: async (id: string) => {
            if (id === goneId) await engine.removeContainer(id, { force: true });
            return f.engine.containerStats(id);
          },
        });
      let goneId = (await createApp(IMAGES.busybox, goneUser)).id as string;
      const all = await appStats({ ...f, engine: racing() }, undefined, goneUser);
      expect(all.outcomes).toEqual([]);
      goneId = (await createApp(IMAGES.busybox, goneUser)).id;
      expect((await appStats({ ...f, engine: racing() }, [gone])).outcomes).toMatchObject([{ ok: false, key: { name: gone }, error: { code: 'app_not_found' } }]);
      // without the race the same calls see the app
      goneId = (await createApp(IMAGES.busybox, goneUser)).id;
      expect((values(await appStats(f, undefined, goneUser)) as { Name: string }[]).map((x) => x.Name)).toEqual([gone]);
    } finally {
      await removeUserApps(goneUser);
    }
  });

  it('a second read within a minute takes one Engine tick: CPU % since the first read, over the window it reports', async () => {
    clearStatsBaselines();
    const f = getFacility('demo');
    const seen: { kind: string; s: any }[] = [];
    const recording = Object.assign(Object.create(f.engine), {
      containerStats: async (id: string) => {
        const s = await f.engine.containerStats(id);
        seen.push({ kind: 'two', s });
        return s;
      },
      containerStatsOneShot: async (id: string) => {
        const s = await f.engine.containerStatsOneShot(id);
        seen.push({ kind: 'one', s });
        return s;
      },
    }) as Engine;
    const first = values(await appStats({ ...f, engine: recording }, [running]))[0] as any;
    expect(seen.map((x) => x.kind)).toEqual(['two']);
    expect(first.CPUWindowMs).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 1100));
    const second = values(await appStats({ ...f, engine: recording }, [running]))[0] as any;
    expect(seen.map((x) => x.kind)).toEqual(['two', 'one']);
    const [a, b] = [seen[0].s, seen[1].s];
    expect(b.precpu_stats?.system_cpu_usage ?? 0).toBe(0); // a one-shot sample has no baseline of its own
    expect(second.CPUPerc).toBe(formatPercentage(cpuPercentUnix(a.cpu_stats, b.cpu_stats)));
    expect(Math.abs(second.CPUWindowMs - (Date.parse(b.read) - Date.parse(a.read)))).toBeLessThanOrEqual(1);
    expect(second.CPUWindowMs).toBeGreaterThanOrEqual(1000);
    // a stopped app has no window
    const stoppedOne = values(await appStats({ ...f, engine: recording }, [stopped]))[0] as any;
    expect(stoppedOne).toMatchObject({ CPUPerc: '0.00%', CPUWindowMs: 0 });
  });

  it('one name answers one object; 404 for an unknown app', async () => {
    const one = await call('GET', `/demo/get-app-stats?name=${running}`);
    expect(one.body.Name).toBe(running);
    expect(one.body.Container).toBe(running);
    expect((await call('GET', `/demo/get-app-stats?name=nope--${user}`)).status).toBe(404);
  });
});
