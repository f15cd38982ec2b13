/**
 * One run of the uptime job in swarm mode (a manager's Engine), computed from the app services
 * and their tasks (no I/O): swarm keeps no event history of task states, so each app is
 * compared between runs and a change is dated by the swarm's own timestamps. Solo mode is
 * core/uptime-run.ts.
 *
 * @module
 */
import { appStateFrom, type AppState, type Snapshot, type Transition } from './uptime-model.ts';
import { collapse, groupByApp, type RunOutput } from './uptime-run.ts';

/** A swarm-mode app (a service) as the manager shows it now. */
export interface ServiceView {
  /** Service ID. */
  id: string;
  app: string;
  /** The service's `CreatedAt`. */
  createdAt: bigint | null;
  /** The service's `UpdatedAt` (its last spec change, e.g. a scale to 0). */
  updatedAt?: bigint | null;
  /** Its tasks: what swarm records of them, with their nodes' state. */
  tasks: TaskView[];
}

/** One task of a service as the job sees it. */
export interface TaskView {
  /**
   * Its state (`running`, `complete`, `shutdown`, `failed`, …), or `unknown` when swarm last saw
   * it live on a node that is not ready now (core/service-reads.ts `knownTaskState`).
   */
  state: string;
  /** When swarm recorded that state (`Status.Timestamp`). */
  at: bigint | null;
  /** When its node's record last changed (node `UpdatedAt`: e.g. it went Down, or came back). */
  nodeChangedAt?: bigint | null;
  /**
   * For a task that had a container (`Status.ContainerStatus.ContainerID`): the earliest time it
   * can have run, its `CreatedAt` (swarm records no start time of a task).
   */
  startedAt?: bigint | null;
}

/** Task states after which the task's container no longer runs. */
const ENDED = new Set(['complete', 'shutdown', 'failed', 'rejected', 'orphaned', 'remove']);

/** An app's state from its tasks: running if any runs, else unknown if any is unknown (its node is Down), else not running. */
function stateOf(tasks: TaskView[]): AppState {
  if (tasks.some((t) => t.state === 'running')) return 'running';
  return tasks.some((t) => t.state === 'unknown') ? 'unknown' : 'not-running';
}

const RANK: Record<AppState, number> = { running: 2, unknown: 1, 'not-running': 0 };

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
 *
 * A task swarm last saw live on a node that is not ready (Down, unreachable) is `unknown`: the
 * app is `unknown` when no task runs and one is, from the node's `UpdatedAt` (when it went
 * Down) inside the window, else from the checkpoint; once it runs again, from when the node's
 * record changed back (or the task's own time, the later). A task that ran and ended between
 * two runs (a short job) is recorded from its `CreatedAt` (swarm keeps no start time; the
 * task ran at most from then) to its `Status.Timestamp` (action `task-ran`, `task-ended`).
 */
export function computeSwarmRun(input: { t0: bigint | null; snapshot: Snapshot; T: bigint; unreachableSince: bigint | null; services: ServiceView[] }): RunOutput {
  const { t0, T } = input;
  const snapshot: Snapshot = {};
  const now = new Map<string, { state: AppState; view: ServiceView }>();
  for (const s of input.services) {
    const state = stateOf(s.tasks);
    snapshot[`service:${s.id}`] = { app: s.app, state: state === 'not-running' ? 'stopped' : state };
    const prev = now.get(s.app);
    if (!prev || RANK[state] > RANK[prev.state]) now.set(s.app, { state, view: s });
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
    const inWindow = (t: bigint | null | undefined): t is bigint => t != null && t > t0 && t <= T;
    const max = (a: bigint | null, b: bigint | null | undefined): bigint | null => (b == null ? a : a === null || b > a ? b : a);
    const firstRunning = tasks.filter((t) => t.state === 'running' && t.at !== null).reduce<bigint | null>((m, t) => (m === null || t.at! < m ? t.at! : m), null);
    const lastChange = tasks.filter((t) => t.state !== 'running' && t.state !== 'unknown' && t.at !== null).reduce<bigint | null>((m, t) => (m === null || t.at! > m ? t.at! : m), null);
    // back from unknown: running since its node was ready again (node UpdatedAt), if that is later than the task's own time
    const runningAgain = tasks
      .filter((t) => t.state === 'running')
      .reduce<bigint | null>((m, t) => {
        const since = max(t.at, t.nodeChangedAt);
        return since === null ? m : m === null || since < m ? since : m;
      }, null);
    // a node went Down (or stopped answering): unknown since its record changed, else since the checkpoint
    const nodeLost = tasks.filter((t) => t.state === 'unknown').reduce<bigint | null>((m, t) => max(m, t.nodeChangedAt), null);
    // tasks that ran and ended within the window: a job that ran between two runs of the job
    const ran = tasks.filter((t) => ENDED.has(t.state) && t.startedAt != null && inWindow(t.at));
    const shortRun = () => {
      if (ran.length === 0) return;
      const from = ran.reduce<bigint>((m, t) => (t.startedAt! < m ? t.startedAt! : m), ran[0].startedAt!);
      const to = ran.reduce<bigint>((m, t) => (t.at! > m ? t.at! : m), ran[0].at!);
      out.push({ app, at: clamp(from), state: 'running', source: 'reconcile', action: 'task-ran' });
      out.push({ app, at: to, state: 'not-running', source: 'reconcile', action: 'task-ended' });
    };
    if (p === undefined) {
      out.push({ app, at: clamp(n.view.createdAt), state: 'not-running', source: 'reconcile', action: 'service-created' });
      if (n.state === 'running') out.push({ app, at: clamp(firstRunning), state: 'running', source: 'reconcile', action: 'task-running' });
      else if (n.state === 'unknown') out.push({ app, at: clamp(nodeLost), state: 'unknown', source: 'reconcile', action: 'node-down' });
      else shortRun();
    } else if (p === 'not-running' && n.state === 'not-running') {
      shortRun();
    } else if (p !== n.state) {
      if (n.state === 'running') out.push({ app, at: clamp(p === 'unknown' ? runningAgain : firstRunning), state: 'running', source: 'reconcile', action: 'task-running' });
      else if (n.state === 'unknown') out.push({ app, at: inWindow(nodeLost) ? nodeLost : t0 + 1n, state: 'unknown', source: 'reconcile', action: 'node-down' });
      else {
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
