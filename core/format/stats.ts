/**
 * `docker stats --no-stream --format json`: Engine stats responses (`GET /containers/{id}/stats`)
 * → the numbers the docker CLI computes (`cli/command/container/stats_helpers.go`) → the object
 * it prints (`cli/command/container/formatter_stats.go`, docker CLI 28).
 *
 * Notes for callers:
 * - CPU %: the CLI 28 calls `stream=false` (without `one-shot`), for which the daemon waits for a
 *   second sample, so `precpu_stats` is filled and {@link computeStats} works on one response.
 *   `stream=false&one-shot=true` returns an empty `precpu_stats`: take two one-shot samples and
 *   use {@link computeCpuPercent} (or pass `previous` to {@link computeStats}).
 * - `Container` is what the user asked for: the name or ID exactly as typed
 *   (`docker stats web` → `"web"`); with no container arguments the CLI lists containers itself
 *   and uses the first 12 characters of each ID. `ID` is the truncated ID from the response
 *   (full with `--no-trunc`), `Name` the response's name without its `/` (`"--"` if none).
 * - Stopped/created containers get a response with zeros (`"0B / 0B"`, `"0.00%"`, PIDs `"0"`);
 *   only a failed/timed-out collection prints `"--"` (pass `invalid: true`).
 *
 * @module
 */
import { formatGoF, truncateID } from './go.ts';
import { bytesSize, humanSizeWithPrecision } from './units.ts';

/** `cpu_stats` / `precpu_stats` of an Engine stats response. */
export interface EngineCpuStats {
  cpu_usage?: {
    total_usage?: number;
    percpu_usage?: number[] | null;
    usage_in_kernelmode?: number;
    usage_in_usermode?: number;
  };
  system_cpu_usage?: number;
  online_cpus?: number;
  throttling_data?: Record<string, number>;
}

/** One `blkio_stats.io_service_bytes_recursive` entry. */
export interface EngineBlkioEntry {
  major?: number;
  minor?: number;
  op: string;
  value: number;
}

/** An Engine stats response (`GET /containers/{id}/stats?stream=false`), API 1.41+. */
export interface EngineStats {
  read?: string;
  preread?: string;
  name?: string;
  id?: string;
  /** present from Engine 29; otherwise the daemon's OS applies */
  os_type?: string;
  num_procs?: number;
  pids_stats?: { current?: number; limit?: number };
  blkio_stats?: { io_service_bytes_recursive?: EngineBlkioEntry[] | null; [k: string]: unknown };
  cpu_stats?: EngineCpuStats;
  precpu_stats?: EngineCpuStats;
  memory_stats?: {
    usage?: number;
    max_usage?: number;
    stats?: Record<string, number>;
    limit?: number;
    commitbytes?: number;
    commitpeakbytes?: number;
    privateworkingset?: number;
  };
  networks?: Record<string, { rx_bytes?: number; tx_bytes?: number; [k: string]: unknown }>;
  storage_stats?: { read_size_bytes?: number; write_size_bytes?: number; [k: string]: unknown };
  [k: string]: unknown;
}

/** The CLI's `StatsEntry`: what `docker stats` computes from one response (bytes, percent). */
export interface ComputedStats {
  /** the response's `name` (with its leading `/`) */
  name: string;
  /** the response's full container ID */
  id: string;
  /** CPU usage in percent of one CPU (can exceed 100 on multi-core hosts) */
  cpuPercentage: number;
  /** memory in use, bytes (cache excluded; the private working set on Windows) */
  memory: number;
  /** memory limit, bytes (0 on Windows or for a stopped container) */
  memoryLimit: number;
  /** memory / limit × 100 */
  memoryPercentage: number;
  /** bytes received, summed over interfaces */
  networkRx: number;
  /** bytes sent, summed over interfaces */
  networkTx: number;
  /** bytes read from block devices */
  blockRead: number;
  /** bytes written to block devices */
  blockWrite: number;
  /** number of processes/threads */
  pidsCurrent: number;
  /** `"linux"` or `"windows"` */
  osType: string;
}

/**
 * `calculateCPUPercentUnix(previousCPU, curCPUStats)`: (Δ container CPU time ÷ Δ system CPU time)
 * × online CPUs × 100, where online CPUs is `online_cpus`, or `len(percpu_usage)` when 0/absent;
 * 0 unless both deltas are positive.
 * @param pre the earlier sample's `cpu_stats` (or a response's `precpu_stats`)
 * @param cur the later sample's `cpu_stats`
 */
export function cpuPercentUnix(pre: EngineCpuStats | undefined, cur: EngineCpuStats | undefined): number {
  const cpuDelta = (cur?.cpu_usage?.total_usage ?? 0) - (pre?.cpu_usage?.total_usage ?? 0);
  const systemDelta = (cur?.system_cpu_usage ?? 0) - (pre?.system_cpu_usage ?? 0);
  let onlineCPUs = cur?.online_cpus ?? 0;
  if (onlineCPUs === 0) onlineCPUs = cur?.cpu_usage?.percpu_usage?.length ?? 0;
  if (systemDelta > 0 && cpuDelta > 0) return (cpuDelta / systemDelta) * onlineCPUs * 100;
  return 0;
}

/**
 * CPU % between two separate stats samples of the same container, e.g. two
 * `stream=false&one-shot=true` responses (whose own `precpu_stats` are empty): the CLI's
 * `calculateCPUPercentUnix(prev.cpu_stats, cur.cpu_stats)`.
 * @param prev the earlier response
 * @param cur the later response
 */
export function computeCpuPercent(prev: EngineStats, cur: EngineStats): number {
  return cpuPercentUnix(prev.cpu_stats, cur.cpu_stats);
}

/** Nanoseconds between two RFC 3339 timestamps with up to 9 fractional digits (b − a). */
function nanosBetween(a: string | undefined, b: string | undefined): number {
  const parse = (s: string | undefined): [number, number] => {
    if (!s) return [NaN, 0];
    const m = s.match(/^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/);
    if (!m) return [Date.parse(s), 0];
    const secMs = Date.parse(m[1] + m[3]);
    const frac = (m[2] ?? '').padEnd(9, '0').slice(0, 9);
    return [secMs, Number(frac)];
  };
  const [am, an] = parse(a);
  const [bm, bn] = parse(b);
  if (Number.isNaN(am) || Number.isNaN(bm)) return 0;
  return (bm - am) * 1e6 + (bn - an);
}

/** `calculateCPUPercentWindows`: used 100 ns intervals ÷ possible intervals (read − preread × procs). */
function cpuPercentWindows(v: EngineStats): number {
  const ns = nanosBetween(v.preread, v.read);
  if (ns <= 0) return 0;
  const possIntervals = Math.floor(ns / 100) * (v.num_procs ?? 0);
  if (possIntervals > 0) {
    const used = (v.cpu_stats?.cpu_usage?.total_usage ?? 0) - (v.precpu_stats?.cpu_usage?.total_usage ?? 0);
    return (used / possIntervals) * 100;
  }
  return 0;
}

/**
 * `calculateMemUsageUnixNoCache`: usage minus `total_inactive_file` on cgroup v1 (when present and
 * smaller than usage), else minus `inactive_file` (cgroup v2; 0 when absent) when smaller than usage,
 * else usage. Bytes.
 */
export function memUsageNoCache(mem: EngineStats['memory_stats']): number {
  const usage = mem?.usage ?? 0;
  const stats = mem?.stats ?? {};
  const v1 = stats['total_inactive_file'];
  if (v1 !== undefined && v1 < usage) return usage - v1;
  const v2 = stats['inactive_file'] ?? 0;
  if (v2 < usage) return usage - v2;
  return usage;
}

/** `calculateBlockIO`: sums `io_service_bytes_recursive` values whose op starts with r/R (read) or w/W (write). */
export function blockIO(blkio: EngineStats['blkio_stats']): { read: number; write: number } {
  let read = 0;
  let write = 0;
  for (const e of blkio?.io_service_bytes_recursive ?? []) {
    if (!e.op) continue;
    const c = e.op[0];
    if (c === 'r' || c === 'R') read += e.value;
    else if (c === 'w' || c === 'W') write += e.value;
  }
  return { read, write };
}

/** `calculateNetwork`: rx/tx bytes summed over all interfaces. */
export function networkIO(networks: EngineStats['networks']): { rx: number; tx: number } {
  let rx = 0;
  let tx = 0;
  for (const n of Object.values(networks ?? {})) {
    rx += n.rx_bytes ?? 0;
    tx += n.tx_bytes ?? 0;
  }
  return { rx, tx };
}

/** Options of {@link computeStats}. */
export interface ComputeStatsOptions {
  /** the daemon's OS (`GET /version` `Os`) when the response has no `os_type`; default `"linux"` */
  osType?: string;
  /** an earlier sample to take the CPU baseline from instead of `precpu_stats` (one-shot mode) */
  previous?: EngineStats;
}

/**
 * What the docker CLI computes from one stats response (the `collect` loop of
 * `stats_helpers.go`): CPU %, memory without inactive file cache, memory %, network and block
 * I/O, PIDs. Windows responses use the private working set and storage stats.
 * @param s an Engine stats response
 * @param opts `osType` of the daemon, `previous` sample for one-shot CPU %
 */
export function computeStats(s: EngineStats, opts: ComputeStatsOptions = {}): ComputedStats {
  const osType = s.os_type || opts.osType || 'linux';
  const net = networkIO(s.networks);
  const base = { name: s.name ?? '', id: s.id ?? '', networkRx: net.rx, networkTx: net.tx, osType };
  if (osType === 'windows') {
    const cpu = opts.previous ? cpuPercentWindows({ ...s, preread: opts.previous.read, precpu_stats: opts.previous.cpu_stats }) : cpuPercentWindows(s);
    return {
      ...base,
      cpuPercentage: cpu,
      memory: s.memory_stats?.privateworkingset ?? 0,
      memoryLimit: 0,
      memoryPercentage: 0,
      blockRead: s.storage_stats?.read_size_bytes ?? 0,
      blockWrite: s.storage_stats?.write_size_bytes ?? 0,
      pidsCurrent: 0,
    };
  }
  const memory = memUsageNoCache(s.memory_stats);
  const limit = s.memory_stats?.limit ?? 0;
  const blk = blockIO(s.blkio_stats);
  return {
    ...base,
    cpuPercentage: cpuPercentUnix(opts.previous ? opts.previous.cpu_stats : s.precpu_stats, s.cpu_stats),
    memory,
    memoryLimit: limit,
    memoryPercentage: limit !== 0 ? (memory / limit) * 100 : 0,
    blockRead: blk.read,
    blockWrite: blk.write,
    pidsCurrent: s.pids_stats?.current ?? 0,
  };
}

/** Options of {@link formatStats}. */
export interface StatsFormatOptions {
  /**
   * The `Container` column: the name/ID as the user gave it, or the 12-character ID when
   * listing all containers (what `docker stats` without arguments prints).
   */
  container: string;
  /** overrides the ID taken from the computed stats */
  id?: string;
  /** overrides the name taken from the computed stats (with or without its leading `/`) */
  name?: string;
  /** truncate the ID to 12 characters as without `--no-trunc` (default true) */
  trunc?: boolean;
  /** the collection failed or timed out: the CLI prints `--` for every value */
  invalid?: boolean;
}

/** The object `docker stats --no-stream --format json` prints for one container (CLI key order). */
export interface StatsJson {
  BlockIO: string;
  CPUPerc: string;
  Container: string;
  ID: string;
  MemPerc: string;
  MemUsage: string;
  Name: string;
  NetIO: string;
  PIDs: string;
}

/** `formatPercentage`: `strconv.FormatFloat(v, 'f', 2, 64) + "%"`, e.g. `"99.45%"`. */
export function formatPercentage(v: number): string {
  return formatGoF(v, 2) + '%';
}

/**
 * One container as `docker stats --no-stream --format json` prints it (`statsContext`):
 * BlockIO and NetIO as `HumanSizeWithPrecision(x, 3)` pairs (`"1.09kB / 0B"`), MemUsage as
 * `BytesSize` pair (`"1.859MiB / 23.54GiB"`; usage only on Windows), CPUPerc/MemPerc with two
 * decimals (Go rounding), PIDs as an integer string; `"--"` values when `invalid`.
 * @param c the output of {@link computeStats}
 * @param opts `container` (see module notes), `trunc`, `invalid`, `id`/`name` overrides
 */
export function formatStats(c: ComputedStats, opts: StatsFormatOptions): StatsJson {
  const windows = c.osType === 'windows';
  const id = opts.id ?? c.id;
  let name = opts.name ?? c.name;
  if (opts.name !== undefined && !name.startsWith('/')) name = '/' + name;
  const inv = opts.invalid ?? false;
  return {
    BlockIO: inv ? '--' : `${humanSizeWithPrecision(c.blockRead, 3)} / ${humanSizeWithPrecision(c.blockWrite, 3)}`,
    CPUPerc: inv ? '--' : formatPercentage(c.cpuPercentage),
    Container: opts.container,
    ID: (opts.trunc ?? true) ? truncateID(id) : id,
    MemPerc: inv || windows ? '--' : formatPercentage(c.memoryPercentage),
    MemUsage: inv ? '-- / --' : windows ? bytesSize(c.memory) : `${bytesSize(c.memory)} / ${bytesSize(c.memoryLimit)}`,
    Name: name.length > 1 ? name.slice(1) : '--',
    NetIO: inv ? '--' : `${humanSizeWithPrecision(c.networkRx, 3)} / ${humanSizeWithPrecision(c.networkTx, 3)}`,
    PIDs: inv || windows ? '--' : String(c.pidsCurrent),
  };
}
