/**
 * Uptime history, the pure part: Engine times, container and app states, and the computation
 * of one run of the uptime job from what the Engine said. No I/O here (see core/uptime.ts for
 * the job and core/uptime-store.ts for the tables), so every rule is unit-testable.
 *
 * Times are nanoseconds since the epoch (`bigint`), stored and returned as ISO-8601 UTC with
 * nine fractional digits and `Z` (`2026-11-29T12:30:49.070197545Z`): fixed width, so text order
 * is time order, and exact to the Engine's event time.
 *
 * States: a container is `running`, `paused`, `stopped` (created, exited, dead) or `unknown`;
 * an app (all containers labelled with its name, so a hard reset's replacement counts too) is
 * `running` if any of its containers runs (paused does not), else `unknown` if any container's
 * state is unknown, else `not-running`.
 *
 * @example
 * nsToIso(1795955449070197545n)              // '2026-11-29T12:30:49.070197545Z'
 * isoToNs('2026-11-29T12:30:49.0701975Z')    // 1795955449070197500n
 *
 * @module
 */
import type { EngineEvent } from './engine.ts';
import { LABELS } from './naming.ts';

// --- Time -----------------------------------------------------------------------------------

/** Nanoseconds per millisecond / second. */
export const NS_PER_MS = 1_000_000n;
export const NS_PER_S = 1_000_000_000n;

/** ISO-8601 UTC with nine fractional digits and `Z` for nanoseconds since the epoch. */
export function nsToIso(ns: bigint): string {
  const sec = ns / NS_PER_S;
  const frac = ns % NS_PER_S;
  return `${new Date(Number(sec) * 1000).toISOString().slice(0, 19)}.${String(frac).padStart(9, '0')}Z`;
}

const RFC3339 = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/;

/**
 * Nanoseconds since the epoch for an RFC 3339 time as the Engine writes it (`StartedAt`,
 * `SystemTime`: any number of fractional digits, `Z` or an offset).
 * @returns `null` for Go's zero time (`0001-01-01T00:00:00Z`, "never"), anything before 1970, or text that is not RFC 3339
 */
export function isoToNs(s: string | null | undefined): bigint | null {
  const m = s ? s.match(RFC3339) : null;
  if (!m) return null;
  const [, y, mo, d, h, mi, se, frac = '', off] = m;
  if (Number(y) < 1970) return null;
  let ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(se));
  if (off !== 'Z') ms -= (off[0] === '-' ? -1 : 1) * (Number(off.slice(1, 3)) * 60 + Number(off.slice(4, 6))) * 60_000;
  if (ms < 0 || Number.isNaN(ms)) return null;
  return BigInt(ms) * NS_PER_MS + BigInt(frac.padEnd(9, '0') || '0');
}

/** Nanoseconds for milliseconds since the epoch (`Date.now()`). */
export function msToNs(ms: number): bigint {
  return BigInt(Math.trunc(ms)) * NS_PER_MS;
}

/** The key of the spec's summary format: the second, UTC, with `Z` (`2023-06-20T13:50:45Z`). */
export function secondKey(iso: string): string {
  return `${iso.slice(0, 19)}Z`;
}

// --- States ---------------------------------------------------------------------------------

export type ContainerState = 'running' | 'paused' | 'stopped' | 'unknown';
export type AppState = 'running' | 'not-running' | 'unknown';
/** Where a transition's time comes from. */
export type TransitionSource = 'event' | 'reconcile' | 'first-run' | 'unreachable' | 'retention';

/** What the job remembers of one container between runs. */
export interface TrackedContainer {
  app: string;
  state: ContainerState;
}
/** Container ID -> its app and state, as of the checkpoint. */
export type Snapshot = Record<string, TrackedContainer>;

/** One change of an app's state. */
export interface Transition {
  app: string;
  /** Nanoseconds since the epoch. */
  at: bigint;
  state: AppState;
  source: TransitionSource;
  /** The Engine event action (`start`, `die`, …) or what a reconciliation used (`StartedAt`, …). */
  action?: string;
  containerId?: string;
}

/** A container as the Engine shows it now (list, or inspect when times are needed). */
export interface ContainerView {
  id: string;
  app: string;
  state: ContainerState;
  /** From inspect; `undefined` when only listed. */
  created?: bigint | null;
  startedAt?: bigint | null;
  finishedAt?: bigint | null;
}

/** Container state from the Engine's list `State` string (`running`, `paused`, `exited`, …). */
export function stateFromListStatus(state: string | undefined): ContainerState {
  if (state === 'running') return 'running';
  if (state === 'paused') return 'paused';
  return 'stopped'; // created, restarting (backing off), removing, exited, dead
}

/** Container state from inspect's `State` object. */
export function stateFromInspect(s: { Running?: boolean; Paused?: boolean; Restarting?: boolean } | undefined): ContainerState {
  if (!s) return 'unknown';
  if (s.Paused) return 'paused';
  if (s.Running && !s.Restarting) return 'running';
  return 'stopped';
}

/** The event action without its detail (`exec_start: sh -c …` -> `exec_start`, `health_status: healthy` -> `health_status`). */
export function baseAction(action: string): string {
  const i = action.indexOf(':');
  return i < 0 ? action : action.slice(0, i);
}

/**
 * A container's state right after an event, `'absent'` after `destroy`, or `undefined` for
 * actions that change no state (`kill` only sends a signal; `die` follows if it exits; `oom`,
 * `exec_*`, `rename`, `health_status`, …).
 */
export function stateAfter(action: string): ContainerState | 'absent' | undefined {
  switch (baseAction(action)) {
    case 'create':
    case 'die':
    case 'stop':
      return 'stopped';
    case 'start':
    case 'restart':
    case 'unpause':
      return 'running';
    case 'pause':
      return 'paused';
    case 'destroy':
      return 'absent';
    default:
      return undefined;
  }
}

/**
 * A container's state right before an event: `'absent'` before `create`, `null` when the event
 * does not tell (`die` ends a running or a paused container), `undefined` for actions that
 * change no state.
 */
export function stateBefore(action: string): ContainerState | 'absent' | null | undefined {
  switch (baseAction(action)) {
    case 'create':
      return 'absent';
    case 'start':
      return 'stopped';
    case 'restart': // emitted once the container runs again
    case 'pause':
      return 'running';
    case 'unpause':
      return 'paused';
    case 'stop': // follows `die`
    case 'destroy': // a running container is killed (`die`) before `destroy`
      return 'stopped';
    case 'die':
      return null;
    default:
      return undefined;
  }
}

/** App state from its containers' states; `undefined` when it has none (absent). */
export function appStateFrom(states: ContainerState[]): AppState | undefined {
  if (states.length === 0) return undefined;
  if (states.includes('running')) return 'running';
  if (states.includes('unknown')) return 'unknown';
  return 'not-running';
}

/** Whether an Engine event is a container event of `facility`'s apps. */
export function isAppEvent(ev: EngineEvent, facility: string): boolean {
  const a = ev.Actor?.Attributes;
  return ev.Type === 'container' && !!a && LABELS.schema in a && a[LABELS.facility] === facility && !!a[LABELS.app];
}

// --- Reconciliation ---------------------------------------------------------------------------

/** One reconstructed change of a container. */
export interface ContainerPoint {
  at: bigint;
  state: ContainerState | 'absent';
  /** What the time comes from: `Created`, `StartedAt`, `FinishedAt`, `gap` (start of an unknown span), `gap-end`. */
  why: string;
}

const started = (s: ContainerState | 'absent') => s === 'running' || s === 'paused';

/**
 * Reconstructs one container over a span `[gs, g1)` whose events are lost (the Engine's
 * 256-event buffer overflowed, or the Engine restarted), from its state at both ends and the
 * times inspect still shows: `Created`, `StartedAt` (its last start) and `FinishedAt` (its last
 * exit). What those times prove is kept exact; what they cannot prove becomes `unknown`:
 *
 * - no start/exit inside the span: the state at `gs` holds, if it agrees with the state at `g1`;
 * - only a start at S: not running before S, running from S;
 * - only an exit at F: the state at `gs` holds until F, not running from F;
 * - both: unknown until the earlier of the two (earlier start/exit cycles are possible), then
 *   exact from there.
 *
 * Pause and unpause leave no time behind: a running/paused difference between the two ends that
 * no start or exit explains makes the span (from the last proven point) unknown.
 *
 * @param s0 state at `gs` (`absent`: not known to exist then)
 * @param s1 state at `g1` when known (from the first surviving event, or the current state), else `null`
 * @param v the container as inspect shows it now; `undefined` when it no longer exists
 * @returns the points where its state changes, in time order (the state at `gs` is `s0` unless a point at `gs` says otherwise)
 */
export function reconstructContainer(gs: bigint, g1: bigint, s0: ContainerState | 'absent', s1: ContainerState | 'absent' | null, v?: ContainerView): ContainerPoint[] {
  const pts: ContainerPoint[] = [];
  const put = (at: bigint, state: ContainerState | 'absent', why: string) => {
    const last = pts[pts.length - 1];
    if (last && last.at === at) pts[pts.length - 1] = { at, state, why };
    else pts.push({ at, state, why });
  };
  if (s1 === 'absent') {
    // Does not exist yet at g1 (its `create` is among the surviving events).
    if (s0 === 'absent') return [];
    put(gs, 'unknown', 'gap');
    put(g1, 'absent', 'gap-end');
    return pts;
  }
  if (!v) {
    // Gone now (or never seen): nothing dates what happened in the span.
    if (s1 !== null && s0 === s1) return [];
    put(gs, 'unknown', 'gap');
    if (s1 !== null) put(g1, s1, 'gap-end');
    return pts;
  }
  const inside = (t: bigint | null | undefined, from: bigint): t is bigint => t != null && t > from && t < g1;
  let t = gs;
  let s: ContainerState | 'absent' = s0;
  if (inside(v.created, gs)) {
    if (s0 !== 'absent') put(gs, 'unknown', 'gap'); // an ID cannot exist before its creation: our record is wrong
    put(v.created, 'stopped', 'Created');
    t = v.created;
    s = 'stopped';
  } else if (s0 === 'absent') {
    // Existed before the span but we had no record of it.
    put(gs, 'unknown', 'gap');
    s = 'unknown';
  }
  const S = inside(v.startedAt, t) ? v.startedAt : null;
  const F = inside(v.finishedAt, t) ? v.finishedAt : null;
  let end: ContainerState | 'absent' = s;
  let endAt = t;
  if (S === null && F === null) {
    if (s1 !== null && s1 !== s) {
      put(t, 'unknown', 'gap');
      end = 'unknown';
    }
  } else if (S !== null && F === null) {
    if (s !== 'stopped') put(t, 'unknown', 'gap');
    put(S, 'running', 'StartedAt');
    end = 'running';
    endAt = S;
  } else if (S === null && F !== null) {
    if (!started(s)) put(t, 'unknown', 'gap');
    put(F, 'stopped', 'FinishedAt');
    end = 'stopped';
    endAt = F;
  } else if (S! < F!) {
    put(t, 'unknown', 'gap');
    put(S!, 'running', 'StartedAt');
    put(F!, 'stopped', 'FinishedAt');
    end = 'stopped';
    endAt = F!;
  } else {
    put(t, 'unknown', 'gap');
    put(F!, 'stopped', 'FinishedAt');
    put(S!, 'running', 'StartedAt');
    end = 'running';
    endAt = S!;
  }
  if (s1 !== null && end !== s1 && end !== 'unknown') {
    // The end state disagrees with the last proven point: a pause (or an unseen change) after it.
    put(endAt, 'unknown', 'gap');
    end = 'unknown';
  }
  if (s1 !== null && end !== s1) put(g1, s1, 'gap-end');
  // Drop a leading point that repeats the state at gs.
  if (pts.length && pts[0].at === gs && pts[0].state === s0) pts.shift();
  return pts;
}

// --- One run ----------------------------------------------------------------------------------

/** Everything one run of the job learned from the Engine for one facility. */
export interface RunInput {
  facility: string;
  /** The previous checkpoint (events up to it are consumed); `null` on the first run. */
  t0: bigint | null;
  /** Container states at `t0`. */
  snapshot: Snapshot;
  /** The facility's app events the Engine returned up to `T`, oldest first (older ones are ignored). */
  events: EngineEvent[];
  /** Whether the Engine's buffer provably still holds every event after `t0` (see core/uptime.ts). */
  covered: boolean;
  /** The Engine's time at this run: the new checkpoint. */
  T: bigint;
  /** When the job first failed to reach the Engine since `t0` (local clock), if it did. */
  unreachableSince: bigint | null;
  /** The facility's containers now (inspected, with times, when `covered` is false). */
  containers: ContainerView[];
}

export interface RunOutput {
  transitions: Transition[];
  /** One per app that exists at `T`. */
  samples: { app: string; state: AppState }[];
  /** Container states at `T`. */
  snapshot: Snapshot;
  /** End of the reconstructed span (the first surviving event, or `T`), when the run was not covered. */
  gapEnd?: bigint;
}

interface Step {
  at: bigint;
  /** Container changes applied at this step. */
  changes: { id: string; app: string; state: ContainerState | 'absent' }[];
  source: TransitionSource;
  action?: string;
  containerId?: string;
  /** Turns the unknown mask (engine unreachable) on or off at this step. */
  mask?: boolean;
}

/**
 * Computes one run: the transitions in `(t0, T]`, one sample per app at `T`, and the container
 * states at `T`.
 *
 * - First run (`t0 === null`): every app's current state, at `T`, source `first-run`.
 * - Covered: every state change comes from an event, at the event's exact time.
 * - Not covered (possible overflow or Engine restart): the span from `t0` to the first surviving
 *   event (`gapEnd`, or `T` if none) is reconstructed per container ({@link reconstructContainer});
 *   events apply exactly from `gapEnd` on. If the job could not reach the Engine from
 *   `unreachableSince`, every app is `unknown` from then until `gapEnd`: never up, never down.
 */
export function computeRun(input: RunInput): RunOutput {
  const { T } = input;
  const views = new Map(input.containers.map((c) => [c.id, c]));
  if (input.t0 === null) {
    const snapshot: Snapshot = {};
    for (const c of input.containers) snapshot[c.id] = { app: c.app, state: c.state };
    const byApp = groupByApp(snapshot);
    const transitions: Transition[] = [];
    const samples: RunOutput['samples'] = [];
    for (const [app, states] of [...byApp].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const st = appStateFrom(states)!;
      transitions.push({ app, at: T, state: st, source: 'first-run' });
      samples.push({ app, state: st });
    }
    return { transitions, samples, snapshot };
  }

  const t0 = input.t0;
  const evs = input.events.filter((e) => {
    const t = BigInt(e.timeNano);
    return t > t0 && t <= T && isAppEvent(e, input.facility);
  });
  const steps: Step[] = [];
  let gapEnd: bigint | undefined;

  if (!input.covered) {
    const g1 = evs.length ? BigInt(evs[0].timeNano) : T;
    const gs = t0 + 1n < g1 ? t0 + 1n : t0; // just after the checkpoint (a transition may sit at t0)
    gapEnd = g1;
    const ids = new Set<string>([...Object.keys(input.snapshot), ...views.keys(), ...evs.map((e) => e.Actor.ID)]);
    for (const id of ids) {
      const v = views.get(id);
      const firstEv = evs.find((e) => e.Actor.ID === id && stateBefore(e.Action) !== undefined);
      const app = input.snapshot[id]?.app ?? v?.app ?? firstEv?.Actor.Attributes?.[LABELS.app];
      if (!app) continue;
      const s0 = input.snapshot[id]?.state ?? 'absent';
      const s1 = firstEv ? (stateBefore(firstEv.Action) as ContainerState | 'absent' | null) : v ? v.state : 'absent';
      // StartedAt / FinishedAt are the LAST start / exit: if a start (exit) event survived, they
      // belong to it (inspect's time precedes the event's by microseconds), not to the span.
      const own = evs.filter((e) => e.Actor.ID === id).map((e) => baseAction(e.Action));
      const view = v && {
        ...v,
        startedAt: own.includes('start') || own.includes('restart') ? null : v.startedAt,
        finishedAt: own.includes('die') ? null : v.finishedAt,
      };
      for (const p of reconstructContainer(gs, g1, s0, s1, view)) {
        steps.push({ at: p.at, changes: [{ id, app, state: p.state }], source: 'reconcile', action: p.why, containerId: id });
      }
    }
    const u = input.unreachableSince;
    if (u !== null && u < g1) {
      steps.push({ at: u > gs ? u : gs, changes: [], source: 'unreachable', mask: true });
      steps.push({ at: g1, changes: [], source: 'reconcile', action: 'engine-reachable', mask: false });
    }
    // Time order; at equal times: container changes, then the mask switch.
    steps.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : (a.mask === undefined ? 0 : 1) - (b.mask === undefined ? 0 : 1)));
  }

  for (const e of evs) {
    const st = stateAfter(e.Action);
    if (st === undefined) continue;
    const app = e.Actor.Attributes?.[LABELS.app] as string;
    steps.push({ at: BigInt(e.timeNano), changes: [{ id: e.Actor.ID, app, state: st }], source: 'event', action: baseAction(e.Action), containerId: e.Actor.ID });
  }

  // Containers still unknown at T, or missing from our record though created before T: take
  // their current state (reconciliation at T).
  const tail: Step['changes'] = [];
  const cur = new Map(Object.entries(input.snapshot).map(([id, c]) => [id, { ...c }]));
  const probe = new Map(cur);
  for (const s of steps) for (const c of s.changes) c.state === 'absent' ? probe.delete(c.id) : probe.set(c.id, { app: c.app, state: c.state });
  for (const v of input.containers) {
    const known = probe.get(v.id);
    if (known ? known.state === 'unknown' && v.state !== 'unknown' : v.created == null || v.created <= T) {
      if (!known && evs.some((e) => e.Actor.ID === v.id && baseAction(e.Action) === 'destroy')) continue;
      tail.push({ id: v.id, app: v.app, state: v.state });
    }
  }
  if (tail.length) steps.push({ at: T, changes: tail, source: 'reconcile', action: 'current-state' });

  // Sweep: apply container changes, emit app transitions where the app's state changes.
  const last = new Map<string, AppState>();
  for (const [app, states] of groupByApp(input.snapshot)) last.set(app, appStateFrom(states)!);
  let masked = false;
  const out: Transition[] = [];
  const emit = (app: string, s: Step) => {
    const states = [...cur.values()].filter((c) => c.app === app).map((c) => c.state);
    let st = appStateFrom(states);
    if (st !== undefined && masked) st = 'unknown';
    if (st === undefined) {
      if (!last.has(app)) return;
      st = 'not-running'; // deleted
    }
    if (last.get(app) === st) return;
    last.set(app, st);
    out.push({ app, at: s.at, state: st, source: s.source, action: s.action, containerId: s.containerId });
  };
  for (const s of steps) {
    const touched = new Set<string>();
    for (const c of s.changes) {
      if (c.state === 'absent') cur.delete(c.id);
      else cur.set(c.id, { app: c.app, state: c.state });
      touched.add(c.app);
    }
    if (s.mask !== undefined) {
      masked = s.mask;
      for (const c of cur.values()) touched.add(c.app);
      for (const app of last.keys()) touched.add(app);
    }
    for (const app of [...touched].sort()) emit(app, s);
  }

  const snapshot: Snapshot = Object.fromEntries(cur);
  const samples = [...groupByApp(snapshot)].sort(([a], [b]) => (a < b ? -1 : 1)).map(([app, states]) => ({ app, state: appStateFrom(states)! }));
  return { transitions: collapse(out, input.snapshot), samples, snapshot, gapEnd };
}

function groupByApp(snapshot: Snapshot): Map<string, ContainerState[]> {
  const m = new Map<string, ContainerState[]>();
  for (const c of Object.values(snapshot)) m.set(c.app, [...(m.get(c.app) ?? []), c.state]);
  return m;
}

/** Keeps the last transition of an app at any one instant, then drops repeats of the state before. */
function collapse(ts: Transition[], before: Snapshot): Transition[] {
  const byKey = new Map<string, Transition>();
  for (const t of ts) {
    const k = `${t.app}\u0000${t.at}`;
    byKey.delete(k);
    byKey.set(k, t);
  }
  const prev = new Map<string, AppState>();
  for (const [app, states] of groupByApp(before)) prev.set(app, appStateFrom(states)!);
  const out: Transition[] = [];
  for (const t of [...byKey.values()].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0))) {
    if (prev.get(t.app) === t.state) continue;
    prev.set(t.app, t.state);
    out.push(t);
  }
  return out;
}

// --- Swarm mode ---------------------------------------------------------------------------------

/** A swarm-mode app (a service) as the manager shows it now. */
export interface ServiceView {
  /** Service ID. */
  id: string;
  app: string;
  /** The service's `CreatedAt`. */
  createdAt: bigint | null;
  /** The service's `UpdatedAt` (its last spec change, e.g. a scale to 0). */
  updatedAt?: bigint | null;
  /** Its tasks: current state (`running`, `shutdown`, `failed`, …) and when swarm recorded it (`Status.Timestamp`). */
  tasks: { state: string; at: bigint | null }[];
}

/**
 * One run for a swarm-mode facility. Swarm keeps no event history of task states, so an app is
 * compared between runs: running when any of its tasks runs. A change is dated by the swarm's
 * own task timestamps: the first running task's `Status.Timestamp` for "running", the last
 * task's for "not running", the service's `CreatedAt` for a new app (source `reconcile`). Swarm
 * deletes a scaled-down task (desired state `remove`) as soon as it has shut down, so when no
 * task dates a stop, the service's `UpdatedAt` inside the window does (action `service-updated`:
 * the update that stopped it; the task stopped at most its stop grace period later); when
 * nothing dates it, the app is `unknown` from the checkpoint and not running at `T`. A
 * service removed while running is `unknown` from the checkpoint to `T`; while the job could not
 * reach the manager, `unknown` from then until `T`. Several changes between two runs show as one.
 */
export function computeSwarmRun(input: { t0: bigint | null; snapshot: Snapshot; T: bigint; unreachableSince: bigint | null; services: ServiceView[] }): RunOutput {
  const { t0, T } = input;
  const snapshot: Snapshot = {};
  const now = new Map<string, { state: AppState; view: ServiceView }>();
  for (const s of input.services) {
    const running = s.tasks.some((t) => t.state === 'running');
    snapshot[`service:${s.id}`] = { app: s.app, state: running ? 'running' : 'stopped' };
    const prev = now.get(s.app);
    if (!prev || running) now.set(s.app, { state: running ? 'running' : 'not-running', view: s });
  }
  const apps = [...now.keys()].sort();
  const samples = apps.map((app) => ({ app, state: now.get(app)!.state }));
  if (t0 === null) {
    return { transitions: apps.map((app) => ({ app, at: T, state: now.get(app)!.state, source: 'first-run' as const })), samples, snapshot };
  }
  const before = Object.fromEntries(Object.entries(input.snapshot).filter(([k]) => k.startsWith('service:')));
  const prev = groupByApp(before);
  const clamp = (t: bigint | null | undefined): bigint => (t == null || t <= t0 ? t0 + 1n : t > T ? T : t);
  const out: Transition[] = [];
  const u = input.unreachableSince;
  if (u !== null && u < T) {
    for (const app of [...prev.keys()].sort()) out.push({ app, at: u > t0 ? u : t0 + 1n, state: 'unknown', source: 'unreachable' });
    for (const app of [...new Set([...prev.keys(), ...apps])].sort()) {
      out.push({ app, at: T, state: now.get(app)?.state ?? 'not-running', source: 'reconcile', action: 'engine-reachable' });
    }
    return { transitions: collapse(out, before), samples, snapshot };
  }
  for (const app of [...new Set([...prev.keys(), ...apps])].sort()) {
    const p = prev.has(app) ? appStateFrom(prev.get(app)!) : undefined;
    const n = now.get(app);
    if (!n) {
      if (p === 'running' || p === 'unknown') {
        out.push({ app, at: t0 + 1n, state: 'unknown', source: 'reconcile', action: 'service-removed' });
        out.push({ app, at: T, state: 'not-running', source: 'reconcile', action: 'service-removed' });
      }
      continue;
    }
    const tasks = n.view.tasks;
    const firstRunning = tasks.filter((t) => t.state === 'running' && t.at !== null).reduce<bigint | null>((m, t) => (m === null || t.at! < m ? t.at! : m), null);
    const lastChange = tasks.filter((t) => t.state !== 'running' && t.at !== null).reduce<bigint | null>((m, t) => (m === null || t.at! > m ? t.at! : m), null);
    if (p === undefined) {
      out.push({ app, at: clamp(n.view.createdAt), state: 'not-running', source: 'reconcile', action: 'service-created' });
      if (n.state === 'running') out.push({ app, at: clamp(firstRunning), state: 'running', source: 'reconcile', action: 'task-running' });
    } else if (p !== n.state) {
      if (n.state === 'running') out.push({ app, at: clamp(firstRunning), state: 'running', source: 'reconcile', action: 'task-running' });
      else {
        const inWindow = (t: bigint | null | undefined): t is bigint => t != null && t > t0 && t <= T;
        const updatedAt = n.view.updatedAt;
        if (inWindow(lastChange)) out.push({ app, at: lastChange, state: 'not-running', source: 'reconcile', action: 'task-stopped' });
        else if (inWindow(updatedAt)) out.push({ app, at: updatedAt, state: 'not-running', source: 'reconcile', action: 'service-updated' });
        else if (lastChange !== null && lastChange > T) out.push({ app, at: T, state: 'not-running', source: 'reconcile', action: 'task-stopped' });
        else {
          // nothing dates the stop: unknown from the checkpoint, not running at T
          out.push({ app, at: t0 + 1n, state: 'unknown', source: 'reconcile', action: 'stop-undated' });
          out.push({ app, at: T, state: 'not-running', source: 'reconcile', action: 'stop-undated' });
        }
      }
    }
  }
  return { transitions: collapse(out, before), samples, snapshot };
}
