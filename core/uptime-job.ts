/**
 * The uptime job: on a schedule, records every app's state transitions with their exact Engine
 * times, one sample per app, and a checkpoint (the summary that reads them back is
 * core/uptime-summary.ts).
 *
 * One run, per facility (all facilities concurrently):
 * 1. take the facility's lease (`uptime_leases`; skipped if another runner holds it);
 * 2. ask the Engine its time `T` (`GET /info` SystemTime), the facility's app events since the
 *    anchor (`GET /events?since=&until=T&filters=` type=container + our labels), and its
 *    containers (`GET /containers/json`);
 * 3. decide whether the events are complete: the anchor is the newest app event the previous
 *    run saw; the Engine keeps only its newest 256 events and none across its own restart, so
 *    if the anchor is still in its buffer, nothing after it was dropped. If not (overflow,
 *    Engine restart, or no anchor yet), the span up to the first surviving event is
 *    reconstructed from each container's `Created`/`StartedAt`/`FinishedAt` (inspect), and what
 *    those cannot prove is recorded as `unknown` (core/uptime-model.ts);
 * 4. write the transitions, one sample per app, and the new checkpoint in ONE transaction that
 *    also checks the lease and the checkpoint version (core/uptime-store.ts);
 * 5. prune rows older than the retention (at most hourly).
 *
 * Swarm mode (a manager's Engine): services and their tasks are compared between runs and a
 * change is dated by the swarm's own task timestamps (core/uptime-swarm-run.ts `computeSwarmRun`).
 *
 * If the Engine cannot be reached, the run writes an `unknown` sample per app and remembers
 * when that started; the stretch is recorded as `unknown` once the Engine answers again (unless
 * its events prove what happened meanwhile).
 *
 * @example
 * const report = await runUptimeJob();            // one pass over every configured facility
 *
 * @module
 */
import type { Client } from '@libsql/client';
import { ENGINE_FAULTS, hasCode } from './errors.ts';
import { EngineError, engineTimestamp, orNotFound, type EngineEvent } from './engine.ts';
import { getFacility, type Facility } from './facility.ts';
import { loadConfig, type UptimeSettings } from './config.ts';
import { appFilter, LABELS } from './naming.ts';
import { isoToNs, msToNs, nsToIso, NS_PER_S, stateFromInspect, stateFromListStatus, type ContainerView } from './uptime-model.ts';
import { computeRun } from './uptime-run.ts';
import { computeSwarmRun, type ServiceView, type TaskView } from './uptime-swarm-run.ts';
import { knownTaskState } from './service-reads.ts';
import { modeOf } from './mode.ts';
import { acquireLease, commitRun, openUptimeDb, pruneFacility, readCheckpoint, releaseLease, type Anchor, type Checkpoint, type RunWrite } from './uptime-store.ts';

/** Options of one job pass (all optional; tests and benchmarks use them). */
export interface UptimeJobOptions {
  /** Database client (default: the process database). */
  db?: Client;
  /** Facility IDs (default: every configured facility). */
  facilities?: string[];
  /** Lease holder ID (default: one per process). */
  holder?: string;
  /** Overrides of the configured uptime settings. */
  settings?: Partial<UptimeSettings>;
  /** Local clock in ms (default `Date.now`). */
  nowMs?: () => number;
  /** Called after the Engine was read and before the commit (tests: a window to race in). */
  beforeCommit?: (facility: string) => Promise<void>;
}

/** What happened to one facility in one pass. */
export interface FacilityRunReport {
  facility: string;
  /**
   * `recorded`: a normal run; `first-run`: the first one (current states); `unreachable`: the
   * Engine did not answer (unknown samples written); `busy`: another runner holds the lease;
   * `refused`: the lease was lost or the checkpoint moved before the commit (nothing written);
   * `failed`: an unexpected error (nothing written).
   */
  outcome: 'recorded' | 'first-run' | 'unreachable' | 'busy' | 'refused' | 'failed';
  /** The new checkpoint (Engine time). */
  checkpoint?: string;
  transitions: number;
  samples: number;
  /** Whether the Engine's event buffer provably covered the whole window. */
  covered?: boolean;
  /** End of the reconstructed span when it did not. */
  reconciledUntil?: string;
  pruned?: { samples: number; transitions: number };
  detail?: string;
  ms: number;
}

/** One pass over the facilities. */
export interface UptimeJobReport {
  startedAt: string;
  ms: number;
  facilities: FacilityRunReport[];
}

const PRUNE_EVERY_NS = 3600n * NS_PER_S;
const processHolder = `pid${globalThis.process?.pid ?? 0}-${crypto.randomUUID()}`;

/** Runs the uptime job once over the configured facilities (concurrently). Never throws for one facility's failure. */
export async function runUptimeJob(opts: UptimeJobOptions = {}): Promise<UptimeJobReport> {
  const nowMs = opts.nowMs ?? Date.now;
  const started = nowMs();
  const cfg = loadConfig();
  const db = await openUptimeDb(opts.db);
  const settings: UptimeSettings = { ...cfg.uptime, ...opts.settings };
  const ids = opts.facilities ?? Object.keys(cfg.facilities);
  const facilities = await Promise.all(
    ids.map((id) =>
      runFacility(getFacility(id), db, settings, opts.holder ?? processHolder, nowMs, opts.beforeCommit).catch(
        (e): FacilityRunReport => ({ facility: id, outcome: 'failed', transitions: 0, samples: 0, detail: (e as Error)?.message ?? String(e), ms: nowMs() - started }),
      ),
    ),
  );
  return { startedAt: new Date(started).toISOString(), ms: nowMs() - started, facilities };
}

/**
 * One facility's run: take the lease, read the Engine, compute and commit the run (or record
 * the Engine unreachable), prune when due, give the lease back.
 */
async function runFacility(f: Facility, db: Client, settings: UptimeSettings, holder: string, nowMs: () => number, beforeCommit?: (facility: string) => Promise<void>): Promise<FacilityRunReport> {
  const t0ms = nowMs();
  const base = { facility: f.id, transitions: 0, samples: 0 };
  if (!(await acquireLease(db, f.id, holder, settings.leaseSeconds * 1000, t0ms))) {
    return { ...base, outcome: 'busy', detail: 'another runner holds this facility’s lease', ms: nowMs() - t0ms };
  }
  try {
    const cp = await readCheckpoint(db, f.id);
    const ctx: RunCtx = { f, db, cp, holder, nowMs, t0ms, beforeCommit };
    let seen: Observation;
    try {
      seen = await observe(f, cp, nowMs);
    } catch (e) {
      if (!hasCode(e, ...ENGINE_FAULTS) && !(e instanceof EngineError)) throw e;
      return await recordUnreachable(ctx, e as Error);
    }
    const since = { t0: cp?.checkpointAt ?? null, snapshot: cp?.snapshot ?? {}, T: seen.T, unreachableSince: cp?.unreachableSince ?? null };
    const out = seen.services
      ? computeSwarmRun({ ...since, services: seen.services })
      : computeRun({ ...since, facility: f.id, events: seen.events, covered: seen.covered, containers: seen.containers });
    const refused = await commit(ctx, {
      transitions: out.transitions,
      samples: out.samples,
      sampledAt: seen.T,
      checkpoint: { checkpointAt: seen.T, anchor: seen.anchor, snapshot: out.snapshot, unreachableSince: null, lastError: null },
    });
    if (refused) return refused;
    const report: FacilityRunReport = {
      ...base,
      outcome: cp?.checkpointAt == null ? 'first-run' : 'recorded',
      checkpoint: nsToIso(seen.T),
      transitions: out.transitions.length,
      samples: out.samples.length,
      covered: cp?.checkpointAt == null || seen.services ? undefined : seen.covered,
      reconciledUntil: out.gapEnd === undefined ? undefined : nsToIso(out.gapEnd),
      ms: 0,
    };
    const now = msToNs(nowMs());
    if (cp?.prunedAt == null || now - cp.prunedAt >= PRUNE_EVERY_NS) {
      report.pruned = await pruneFacility(db, f.id, now - BigInt(settings.retentionDays) * 86_400n * NS_PER_S, nsToIso(now));
    }
    report.ms = nowMs() - t0ms;
    return report;
  } finally {
    await releaseLease(db, f.id, holder).catch(() => undefined);
  }
}

interface Observation {
  T: bigint;
  events: EngineEvent[];
  covered: boolean;
  anchor: Anchor | null;
  containers: ContainerView[];
  /** Swarm mode: the app services and their tasks (instead of events and containers). */
  services?: ServiceView[];
}

/**
 * Reads the Engine: its time, then in solo mode the facility's app events since the anchor and
 * its containers; in swarm mode its app services and their tasks. `nowMs` stands in for the
 * Engine's time when `GET /info` has no `SystemTime`.
 */
async function observe(f: Facility, cp: Checkpoint | null, nowMs: () => number): Promise<Observation> {
  const info = await f.engine.info();
  const T = isoToNs(info.SystemTime) ?? msToNs(nowMs());
  if (cp?.checkpointAt != null && T <= cp.checkpointAt) {
    // The Engine's clock went back: nothing to read yet (the next run after it passes catches up).
    throw new Error(`the Engine's clock (${nsToIso(T)}) is not past the last checkpoint (${nsToIso(cp.checkpointAt)}); nothing recorded`);
  }
  if (modeOf(f, info) === 'swarm') return { T, events: [], covered: true, anchor: null, containers: [], services: await observeServices(f) };
  const since = cp?.checkpointAt == null ? '0' : engineTimestamp(cp.anchor ? BigInt(cp.anchor.timeNano) : cp.checkpointAt);
  const events = await f.engine.events({
    since,
    until: engineTimestamp(T),
    filters: { type: ['container'], ...appFilter(f.id) },
  });
  const a = cp?.anchor;
  const covered = !!a && events.some((e) => e.timeNano === a.timeNano && e.Actor?.ID === a.id && e.Action === a.action);
  const last = events[events.length - 1];
  const anchor: Anchor | null = last ? { timeNano: last.timeNano, id: last.Actor.ID, action: last.Action } : covered ? a! : null;

  const list = await f.engine.listContainers({ all: true, filters: appFilter(f.id) });
  let containers: ContainerView[] = list
    .filter((c) => typeof c.Labels?.[LABELS.app] === 'string')
    .map((c) => ({ id: c.Id, app: c.Labels[LABELS.app], state: stateFromListStatus(c.State), created: typeof c.Created === 'number' ? BigInt(c.Created) * NS_PER_S : null }));
  if (!covered && cp?.checkpointAt != null) containers = await inspectAll(f, containers);
  return { T, events, covered, anchor, containers };
}

/**
 * The facility's app services (`GET /services`, our labels) with their tasks (`GET /tasks`)
 * and the state of each task's node (`GET /nodes`): a task on a node that is not ready is
 * `unknown` (core/service-reads.ts `knownTaskState`).
 */
async function observeServices(f: Facility): Promise<ServiceView[]> {
  const list = (await f.engine.listServices({ filters: appFilter(f.id) })).filter((s) => s.Spec?.Labels?.[LABELS.app] === s.Spec?.Name);
  if (list.length === 0) return [];
  const [tasks, nodes] = await Promise.all([f.engine.listTasks(list.length > 50 ? {} : { filters: { service: list.map((s) => s.ID as string) } }), f.engine.listNodes()]);
  const nodeOf = new Map<string, any>(nodes.map((n: any) => [n.ID, n]));
  const byService = new Map<string, TaskView[]>();
  for (const t of tasks) {
    const node = t.NodeID ? nodeOf.get(t.NodeID) : undefined;
    const view: TaskView = {
      state: knownTaskState(String(t.Status?.State ?? ''), t.NodeID ? String(node?.Status?.State ?? 'unknown') : undefined),
      at: isoToNs(t.Status?.Timestamp),
      nodeChangedAt: isoToNs(node?.UpdatedAt),
      startedAt: t.Status?.ContainerStatus?.ContainerID ? isoToNs(t.CreatedAt) : null,
    };
    byService.set(t.ServiceID, [...(byService.get(t.ServiceID) ?? []), view]);
  }
  return list.map((s) => ({ id: s.ID, app: s.Spec.Name, createdAt: isoToNs(s.CreatedAt), updatedAt: isoToNs(s.UpdatedAt), tasks: byService.get(s.ID) ?? [] }));
}

/** Inspects containers (8 at a time) for their exact Created/StartedAt/FinishedAt; vanished ones are dropped. */
async function inspectAll(f: Facility, list: ContainerView[]): Promise<ContainerView[]> {
  const out: (ContainerView | null)[] = new Array(list.length).fill(null);
  let next = 0;
  const worker = async () => {
    while (next < list.length) {
      const i = next++;
      const c = await orNotFound(f.engine.inspectContainer(list[i].id));
      if (c) {
        out[i] = {
          id: list[i].id,
          app: list[i].app,
          state: stateFromInspect(c.State),
          created: isoToNs(c.Created),
          startedAt: isoToNs(c.State?.StartedAt),
          finishedAt: isoToNs(c.State?.FinishedAt),
        };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, list.length) }, worker));
  return out.filter((c): c is ContainerView => c !== null);
}

/** What one facility's run carries from its start to its commit. */
interface RunCtx {
  f: Facility;
  db: Client;
  /** The checkpoint the run started from (null before the first run). */
  cp: Checkpoint | null;
  holder: string;
  nowMs: () => number;
  t0ms: number;
  beforeCommit?: (facility: string) => Promise<void>;
}

/**
 * Commits a run in one transaction, if this runner still holds the lease and the checkpoint is
 * the one it started from (core/uptime-store.ts `commitRun`).
 * @returns the `refused` report when the commit was refused, else null
 */
async function commit(ctx: RunCtx, w: RunWrite): Promise<FacilityRunReport | null> {
  await ctx.beforeCommit?.(ctx.f.id);
  const refused = await commitRun(ctx.db, ctx.f.id, ctx.holder, ctx.cp?.runs ?? 0, w, new Date(ctx.nowMs()).toISOString());
  return refused ? { facility: ctx.f.id, outcome: 'refused', transitions: 0, samples: 0, detail: refused, ms: ctx.nowMs() - ctx.t0ms } : null;
}

/** The Engine did not answer: an unknown sample per known app; remember since when. */
async function recordUnreachable(ctx: RunCtx, err: Error): Promise<FacilityRunReport> {
  const { cp } = ctx;
  const at = msToNs(ctx.nowMs());
  const apps = [...new Set(Object.values(cp?.snapshot ?? {}).map((c) => c.app))].sort();
  const refused = await commit(ctx, {
    transitions: [],
    samples: apps.map((app) => ({ app, state: 'unknown' as const })),
    sampledAt: at,
    checkpoint: {
      checkpointAt: cp?.checkpointAt ?? null,
      anchor: cp?.anchor ?? null,
      snapshot: cp?.snapshot ?? {},
      unreachableSince: cp?.unreachableSince ?? at,
      lastError: err.message,
    },
  });
  return refused ?? { facility: ctx.f.id, outcome: 'unreachable', transitions: 0, samples: apps.length, detail: err.message, ms: ctx.nowMs() - ctx.t0ms };
}
