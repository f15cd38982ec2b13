/**
 * computeStats/formatStats against a recorded cgroup v1 Engine (responses + the docker CLI 28's
 * `docker stats --no-stream --format json` lines) and a constructed cgroup v2 response.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cliJsonLine } from '../../core/format/go.ts';
import { computeCpuPercent, computeStats, formatPercentage, formatStats, memUsageNoCache, type EngineStats, type StatsJson } from '../../core/format/stats.ts';

const load = <T>(name: string): T => JSON.parse(readFileSync(new URL(`../fixtures/engine/${name}`, import.meta.url), 'utf8')) as T;

const v1 = load<{
  daemonOs: string;
  names: string[];
  stats: Record<string, EngineStats>;
  oneShot: Record<string, [EngineStats, EngineStats]>;
  cli: { named: string; noTrunc: string };
}>('format-stats-cgroup1.json');
const v2 = load<{ response: EngineStats }>('format-stats-cgroup2.json');

/** "586B", "1.09kB", "1.2MB" → bytes (decimal units, as HumanSizeWithPrecision prints them) */
function bytesOf(s: string): number {
  const m = /^([\d.e+]+)(B|kB|MB|GB)$/.exec(s);
  if (!m) throw new Error(`not a size: ${s}`);
  return Number(m[1]) * { B: 1, kB: 1e3, MB: 1e6, GB: 1e9 }[m[2] as 'B']!;
}

const lines = (s: string): StatsJson[] =>
  s
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as StatsJson);

describe('cgroup v1 (recorded)', () => {
  it('every field but CPUPerc matches the CLI; CPU within the sampling noise', () => {
    const cli = lines(v1.cli.named);
    expect(cli.map((c) => c.Container)).toEqual(v1.names);
    for (const want of cli) {
      const s = v1.stats[want.Container];
      const got = formatStats(computeStats(s, { osType: v1.daemonOs }), { container: want.Container });
      expect(Object.keys(got)).toEqual(Object.keys(want));
      expect({ ...got, CPUPerc: '', NetIO: '' }).toEqual({ ...want, CPUPerc: '', NetIO: '' });
      // NetIO: the bridge delivers the odd IPv6/ARP packet between the two samples
      const [gr, gt] = got.NetIO.split(' / ').map(bytesOf);
      const [wr, wt] = want.NetIO.split(' / ').map(bytesOf);
      expect(Math.abs(gr - wr), want.Container).toBeLessThanOrEqual(300);
      expect(gt).toBe(wt);
      // the CLI took its own, later 1 s sample
      expect(Math.abs(parseFloat(got.CPUPerc) - parseFloat(want.CPUPerc)), want.Container).toBeLessThan(15);
    }
  });

  it('reproduces the busy container: CPU ~100 % of one core on a 2-CPU host, memory without cache', () => {
    const s = v1.stats['fmtprobe-busy'];
    const c = computeStats(s);
    const cpuDelta = s.cpu_stats!.cpu_usage!.total_usage! - s.precpu_stats!.cpu_usage!.total_usage!;
    const sysDelta = s.cpu_stats!.system_cpu_usage! - s.precpu_stats!.system_cpu_usage!;
    expect(s.cpu_stats!.online_cpus).toBe(2);
    expect(c.cpuPercentage).toBeCloseTo((cpuDelta / sysDelta) * 2 * 100, 10);
    expect(c.cpuPercentage).toBeGreaterThan(70);
    expect(c.cpuPercentage).toBeLessThan(130);
    const m = s.memory_stats!;
    expect(c.memory).toBe(m.usage! - m.stats!.total_inactive_file);
    expect(c.memoryLimit).toBe(m.limit);
  });

  it('created and exited containers give zeros, not "--"', () => {
    for (const n of ['fmtprobe-b', 'fmtprobe-size']) {
      const got = formatStats(computeStats(v1.stats[n]), { container: n });
      expect(got).toMatchObject({ BlockIO: '0B / 0B', CPUPerc: '0.00%', MemPerc: '0.00%', MemUsage: '0B / 0B', NetIO: '0B / 0B', PIDs: '0', Name: n });
    }
  });

  it('--no-trunc prints the full ID; Container is what was asked for', () => {
    const [want] = lines(v1.cli.noTrunc);
    const got = formatStats(computeStats(v1.stats['fmtprobe-a']), { container: 'fmtprobe-a', trunc: false });
    expect(got.ID).toBe(want.ID);
    expect(got.ID).toHaveLength(64);
    const byId = formatStats(computeStats(v1.stats['fmtprobe-a']), { container: got.ID.slice(0, 12) });
    expect(byId.Container).toBe(got.ID.slice(0, 12));
    expect(byId.Name).toBe('fmtprobe-a');
  });

  it('two one-shot samples give the CPU % (their precpu_stats are empty)', () => {
    const [a, b] = v1.oneShot['fmtprobe-busy'];
    expect(a.precpu_stats?.system_cpu_usage).toBeUndefined();
    expect(b.precpu_stats?.cpu_usage?.total_usage).toBe(0);
    // one one-shot response alone: the CLI formula degenerates to the lifetime average
    // (container CPU time ÷ host CPU time since boot), which is not the current load
    const lifetime = computeStats(b).cpuPercentage;
    expect(lifetime).toBeCloseTo((b.cpu_stats!.cpu_usage!.total_usage! / b.cpu_stats!.system_cpu_usage!) * 2 * 100, 10);
    expect(lifetime).toBeLessThan(20);
    const cpu = computeCpuPercent(a, b);
    expect(cpu).toBeGreaterThan(70);
    expect(cpu).toBeLessThan(130);
    expect(computeStats(b, { previous: a }).cpuPercentage).toBe(cpu);
    const [ia, ib] = v1.oneShot['fmtprobe-a'];
    expect(computeCpuPercent(ia, ib)).toBeLessThan(5);
  });

  it('block I/O: ops matched on their first letter, case-insensitively (v1 Read/Write/Sync/Async/Total)', () => {
    const s: EngineStats = {
      ...v1.stats['fmtprobe-io'],
      blkio_stats: {
        io_service_bytes_recursive: [
          { major: 8, minor: 0, op: 'Read', value: 4096 },
          { major: 8, minor: 0, op: 'Write', value: 1048576 },
          { major: 8, minor: 0, op: 'Sync', value: 1052672 },
          { major: 8, minor: 0, op: 'Async', value: 0 },
          { major: 8, minor: 0, op: 'Discard', value: 0 },
          { major: 8, minor: 0, op: 'Total', value: 1052672 },
          { major: 8, minor: 16, op: 'Read', value: 8192 },
          { major: 8, minor: 16, op: 'Write', value: 2097152 },
          { major: 8, minor: 16, op: '', value: 99 },
        ],
      },
    };
    const c = computeStats(s);
    expect([c.blockRead, c.blockWrite]).toEqual([12288, 3145728]);
    expect(formatStats(c, { container: 'x' }).BlockIO).toBe('12.3kB / 3.15MB');
  });
});

describe('cgroup v2 (constructed)', () => {
  it('computes the documented line exactly', () => {
    const got = formatStats(computeStats(v2.response), { container: 'web' });
    expect(cliJsonLine(got)).toBe(
      '{"BlockIO":"9.47MB / 1.18MB","CPUPerc":"25.01%","Container":"web","ID":"4f2c8d3a9b71","MemPerc":"0.26%","MemUsage":"20.59MiB / 7.667GiB","Name":"web","NetIO":"1.21MB / 6.8kB","PIDs":"7"}\n',
    );
  });

  it('uses len(percpu_usage) when online_cpus is missing, and inactive_file on v2', () => {
    const s = structuredClone(v2.response);
    delete s.cpu_stats!.online_cpus;
    expect(computeStats(s).cpuPercentage).toBe(0); // v2 has no percpu_usage: 0 CPUs
    s.cpu_stats!.cpu_usage!.percpu_usage = [1, 2];
    expect(computeStats(s).cpuPercentage).toBeCloseTo((250123456 / 4e9) * 2 * 100, 10);
    expect(memUsageNoCache(s.memory_stats)).toBe(31469568 - 9883648);
  });
});

describe('memory and CPU edge cases of the CLI helpers', () => {
  it('calculateMemUsageUnixNoCache branches', () => {
    // v1 key wins when smaller than usage
    expect(memUsageNoCache({ usage: 100, stats: { total_inactive_file: 30, inactive_file: 10 } })).toBe(70);
    // v1 key >= usage: falls through to inactive_file
    expect(memUsageNoCache({ usage: 100, stats: { total_inactive_file: 100, inactive_file: 10 } })).toBe(90);
    // nothing usable: usage itself
    expect(memUsageNoCache({ usage: 100, stats: { inactive_file: 200 } })).toBe(100);
    expect(memUsageNoCache({ usage: 100 })).toBe(100);
    expect(memUsageNoCache(undefined)).toBe(0);
  });

  it('CPU % is 0 unless both deltas are positive', () => {
    const cur = { cpu_usage: { total_usage: 100 }, system_cpu_usage: 1000, online_cpus: 2 };
    expect(computeCpuPercent({ cpu_stats: cur }, { cpu_stats: cur })).toBe(0);
    expect(computeCpuPercent({ cpu_stats: { cpu_usage: { total_usage: 50 }, system_cpu_usage: 1000 } }, { cpu_stats: cur })).toBe(0);
    expect(computeCpuPercent({ cpu_stats: { cpu_usage: { total_usage: 50 }, system_cpu_usage: 500 } }, { cpu_stats: cur })).toBe(20);
  });

  it('percentages use Go rounding (half to even on the exact value)', () => {
    expect(formatPercentage(0.125)).toBe('0.12%');
    expect(formatPercentage(101.425)).toBe('101.42%'); // 101.42499999999999715...
    expect(formatPercentage(50.005)).toBe('50.01%'); // 50.00500000000000255...
    expect(formatPercentage(1.005)).toBe('1.00%'); // 1.00499999999999989...
    expect(formatPercentage(0)).toBe('0.00%');
  });

  it('invalid entries and Windows daemons', () => {
    const c = computeStats(v2.response);
    expect(formatStats(c, { container: 'web', invalid: true })).toEqual({
      BlockIO: '--',
      CPUPerc: '--',
      Container: 'web',
      ID: '4f2c8d3a9b71',
      MemPerc: '--',
      MemUsage: '-- / --',
      Name: 'web',
      NetIO: '--',
      PIDs: '--',
    });
    const win = computeStats(
      {
        read: '2026-11-29T12:30:01.5Z',
        preread: '2026-11-29T12:30:00.5Z',
        num_procs: 2,
        name: '/w',
        id: 'a'.repeat(64),
        cpu_stats: { cpu_usage: { total_usage: 15_000_000 } },
        precpu_stats: { cpu_usage: { total_usage: 5_000_000 } },
        memory_stats: { privateworkingset: 52428800 },
        storage_stats: { read_size_bytes: 1000, write_size_bytes: 2000 },
      },
      { osType: 'windows' },
    );
    // 1 s = 10^7 intervals of 100 ns, × 2 procs; 10^7 used → 50 %
    expect(win.cpuPercentage).toBe(50);
    expect(formatStats(win, { container: 'w' })).toEqual({
      BlockIO: '1kB / 2kB',
      CPUPerc: '50.00%',
      Container: 'w',
      ID: 'aaaaaaaaaaaa',
      MemPerc: '--',
      MemUsage: '50MiB',
      Name: 'w',
      NetIO: '0B / 0B',
      PIDs: '--',
    });
    expect(formatStats({ ...c, name: '' }, { container: 'x' }).Name).toBe('--');
  });
});
