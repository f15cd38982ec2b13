/**
 * One run of the uptime job in solo mode, computed from what the Engine said (no I/O): the
 * app transitions in `(t0, T]`, a sample per app at `T`, and the container states at `T`.
 * {@link computeRun} is a pipeline of named steps: pick the window's app events, reconstruct
 * the span the Engine's event buffer may have lost, turn events into steps, take the current
 * state of containers still unaccounted for, and sweep the steps into app transitions. The
 * rules for one container and the time and state helpers are core/uptime-model.ts; swarm mode
 * is core/uptime-swarm-run.ts.
 *
 * @module
 */
import type { EngineEvent } from './engine.ts';
import { LABELS } from './naming.ts';
import {
  appStateFrom,
  baseAction,
  isAppEvent,
  reconstructContainer,
  stateAfter,
  stateBefore,
  type AppState,
  type ContainerState,
  type ContainerView,
  type Snapshot,
  type TrackedContainer,
  type Transition,
  type TransitionSource,
} from './uptime-model.ts';

/** Everything one run of the job learned from the Engine for one facility. */
export interface RunInput {
  facility: string;
  /** The previous checkpoint (events up to it are consumed); `null` on the first run. */
  t0: bigint | null;
  /** Container states at `t0`. */
  snapshot: Snapshot;
  /** The facility's app events the Engine returned up to `T`, oldest first (older ones are ignored). */
  events: EngineEvent[];
  /** Whether the Engine's buffer provably still holds every event after `t0` (see core/uptime-job.ts). */
  covered: boolean;
  /** The Engine's time at this run: the new checkpoint. */
  T: bigint;
  /** When the job first failed to reach the Engine since `t0` (local clock), if it did. */
  unreachableSince: bigint | null;
  /** The facility's containers now (inspected, with times, when `covered` is false). */
  containers: ContainerView[];
}

/** What one run writes: its transitions, samples and the new container snapshot. */
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
  if (input.t0 === null) return firstRun(input);
  const evs = appEventsInWindow(input, input.t0);
  const steps: Step[] = [];
  let gapEnd: bigint | undefined;
  if (!input.covered) {
    const gap = reconstructGap(input, input.t0, evs);
    steps.push(...gap.steps);
    gapEnd = gap.gapEnd;
  }
  steps.push(...eventSteps(evs));
  const tail = currentStateStep(input, evs, steps);
  if (tail) steps.push(tail);
  const { transitions, snapshot } = sweep(input.snapshot, steps);
  return { transitions: collapse(transitions, input.snapshot), samples: samplesOf(snapshot), snapshot, gapEnd };
}

/** The first run (no checkpoint yet): every app's current state at `T`, source `first-run`. */
function firstRun(input: RunInput): RunOutput {
  const snapshot: Snapshot = {};
  for (const c of input.containers) snapshot[c.id] = { app: c.app, state: c.state };
  const samples = samplesOf(snapshot);
  const transitions: Transition[] = samples.map(({ app, state }) => ({ app, at: input.T, state, source: 'first-run' }));
  return { transitions, samples, snapshot };
}

/** The facility's app events in `(t0, T]`, in the Engine's order (oldest first). */
function appEventsInWindow(input: RunInput, t0: bigint): EngineEvent[] {
  return input.events.filter((e) => {
    const t = BigInt(e.timeNano);
    return t > t0 && t <= input.T && isAppEvent(e, input.facility);
  });
}

/**
 * The span the Engine's buffer may have lost, from just after `t0` to the first surviving event
 * (`gapEnd`, or `T` if none): each container's changes reconstructed from the snapshot, its
 * first surviving event and inspect's times ({@link reconstructContainer}); plus the unknown
 * mask while the job could not reach the Engine. Steps in time order; at equal times, container
 * changes before the mask switch.
 */
function reconstructGap(input: RunInput, t0: bigint, evs: EngineEvent[]): { steps: Step[]; gapEnd: bigint } {
  const views = new Map(input.containers.map((c) => [c.id, c]));
  const g1 = evs.length ? BigInt(evs[0].timeNano) : input.T;
  const gs = t0 + 1n < g1 ? t0 + 1n : t0; // just after the checkpoint (a transition may sit at t0)
  const steps: Step[] = [];
  const ids = new Set<string>([...Object.keys(input.snapshot), ...views.keys(), ...evs.map((e) => e.Actor.ID)]);
  for (const id of ids) steps.push(...reconstructedSteps(input, id, views.get(id), evs, gs, g1));
  const u = input.unreachableSince;
  if (u !== null && u < g1) {
    steps.push({ at: u > gs ? u : gs, changes: [], source: 'unreachable', mask: true });
    steps.push({ at: g1, changes: [], source: 'reconcile', action: 'engine-reachable', mask: false });
  }
  steps.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : (a.mask === undefined ? 0 : 1) - (b.mask === undefined ? 0 : 1)));
  return { steps, gapEnd: g1 };
}

/** One container's reconstructed steps in `[gs, g1]`; none when its app cannot be told. */
function reconstructedSteps(input: RunInput, id: string, v: ContainerView | undefined, evs: EngineEvent[], gs: bigint, g1: bigint): Step[] {
  const firstEv = evs.find((e) => e.Actor.ID === id && stateBefore(e.Action) !== undefined);
  const app = input.snapshot[id]?.app ?? v?.app ?? firstEv?.Actor.Attributes?.[LABELS.app];
  if (!app) return [];
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
  return reconstructContainer(gs, g1, s0, s1, view).map((p) => ({ at: p.at, changes: [{ id, app, state: p.state }], source: 'reconcile', action: p.why, containerId: id }));
}

/** One step per event that changes a container's state, at the event's exact time. */
function eventSteps(evs: EngineEvent[]): Step[] {
  const steps: Step[] = [];
  for (const e of evs) {
    const st = stateAfter(e.Action);
    if (st === undefined) continue;
    const app = e.Actor.Attributes?.[LABELS.app] as string;
    steps.push({ at: BigInt(e.timeNano), changes: [{ id: e.Actor.ID, app, state: st }], source: 'event', action: baseAction(e.Action), containerId: e.Actor.ID });
  }
  return steps;
}

/**
 * Containers still unknown at `T` after `steps`, or missing from our record though created
 * before `T` (and not destroyed in the window): one step at `T` that takes their current state
 * (reconciliation at `T`); `null` when there are none.
 */
function currentStateStep(input: RunInput, evs: EngineEvent[], steps: Step[]): Step | null {
  const probe = new Map<string, TrackedContainer>(Object.entries(input.snapshot));
  for (const s of steps) for (const c of s.changes) c.state === 'absent' ? probe.delete(c.id) : probe.set(c.id, { app: c.app, state: c.state });
  const tail: Step['changes'] = [];
  for (const v of input.containers) {
    const known = probe.get(v.id);
    if (known ? known.state === 'unknown' && v.state !== 'unknown' : v.created == null || v.created <= input.T) {
      if (!known && evs.some((e) => e.Actor.ID === v.id && baseAction(e.Action) === 'destroy')) continue;
      tail.push({ id: v.id, app: v.app, state: v.state });
    }
  }
  return tail.length ? { at: input.T, changes: tail, source: 'reconcile', action: 'current-state' } : null;
}

/**
 * Applies the steps to the container states, from `before`, and emits an app transition
 * wherever an app's state changes (an app whose last container went is `not-running`; while
 * the mask is on, every app is `unknown`).
 * @returns the transitions in step order, and the container states after the last step
 */
function sweep(before: Snapshot, steps: Step[]): { transitions: Transition[]; snapshot: Snapshot } {
  const cur = new Map(Object.entries(before).map(([id, c]) => [id, { ...c }]));
  const last = new Map<string, AppState>();
  for (const [app, states] of groupByApp(before)) last.set(app, appStateFrom(states)!);
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
  return { transitions: out, snapshot: Object.fromEntries(cur) };
}

/** One sample per app of `snapshot`, its app state, sorted by app name. */
function samplesOf(snapshot: Snapshot): RunOutput['samples'] {
  return [...groupByApp(snapshot)].sort(([a], [b]) => (a < b ? -1 : 1)).map(([app, states]) => ({ app, state: appStateFrom(states)! }));
}

/** The container states of each app in `snapshot`. */
export function groupByApp(snapshot: Snapshot): Map<string, ContainerState[]> {
  const m = new Map<string, ContainerState[]>();
  for (const c of Object.values(snapshot)) m.set(c.app, [...(m.get(c.app) ?? []), c.state]);
  return m;
}

/** Keeps the last transition of an app at any one instant, then drops repeats of the state before. */
export function collapse(ts: Transition[], before: Snapshot): Transition[] {
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
