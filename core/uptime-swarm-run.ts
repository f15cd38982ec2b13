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
