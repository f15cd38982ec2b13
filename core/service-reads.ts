/**
 * Read side of apps in swarm mode: the current tasks of each service, `get-app-status` (the
 * columns of `docker service ls` plus the tasks), inspect, and task stats read from each task's
 * node Engine (facility config `nodes`), at most `concurrency` at once.
 * @module
 */
import { DomainError, hasCode } from './errors.ts';
import { EngineError } from './engine.ts';
import { nodeEngine, type Facility } from './facility.ts';
import { pickApps } from './naming.ts';
import { formatService, type ServiceJson } from './format/nodes.ts';
import { computeStats, formatStats, type StatsJson } from './format/stats.ts';
import { truncateID } from './format/go.ts';
import { allOf, mapBatch, mapOk, type Batch } from './batch.ts';
import { inspectServiceApp, listServiceApps, swarm, type ServiceInspect } from './services.ts';
import { logLines, mergeLines, type LogOptions, type LogSource } from './logs.ts';

/** One task as the Engine lists it (`GET /tasks`). */
type EngineTask = Record<string, any> & { ID: string; ServiceID: string; NodeID?: string; Slot?: number; DesiredState: string; Status: Record<string, any>; CreatedAt: string };

/** An RFC 3339 time with nanoseconds as a sortable key (the Engine trims trailing zeros). */
function timeKey(iso: string | undefined): string {
  const m = (iso ?? '').match(/^(.*?T\d\d:\d\d:\d\d)(?:\.(\d+))?(.*)$/);
  return m ? `${m[1]}.${(m[2] ?? '').padEnd(9, '0')}${m[3]}` : '';
}

function isGlobal(s: ServiceInspect): boolean {
  const m = s.Spec?.Mode ?? {};
  return !!(m.Global || m.GlobalJob);
}

/**
 * The current task of every slot of a service (every node for global modes): the newest task
 * per slot, sorted by slot (node ID). Older tasks of a slot are the history `docker service ps`
 * shows below it.
 */
export function currentTasks(s: ServiceInspect, tasks: EngineTask[]): EngineTask[] {
  const global = isGlobal(s);
  const bySlot = new Map<string, EngineTask>();
  for (const t of tasks) {
    if (t.ServiceID !== s.ID) continue;
    const key = global ? `n:${t.NodeID ?? ''}` : `s:${String(t.Slot ?? 0).padStart(10, '0')}`;
    const cur = bySlot.get(key);
    if (!cur || timeKey(t.CreatedAt) > timeKey(cur.CreatedAt)) bySlot.set(key, t);
  }
  return [...bySlot.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, t]) => t);
}

/** The name `docker service ps` shows for a task: `SERVICE.SLOT`, or `SERVICE.NODEID` without a slot. */
function taskName(service: string, t: EngineTask): string {
  return `${service}.${t.Slot ? t.Slot : (t.NodeID ?? '')}`;
}

/** A task's published ports as `docker service ps` shows them (`*:30001->80/tcp`). */
function taskPorts(t: EngineTask): string {
  const ports: any[] = t.Status?.PortStatus?.Ports ?? [];
  return [...new Set(ports.map((p) => `*:${p.PublishedPort ?? 0}->${p.TargetPort ?? 0}/${p.Protocol ?? 'tcp'}`))].join(', ');
}

async function tasksOf(f: Facility, services: ServiceInspect[]): Promise<EngineTask[]> {
  if (services.length === 0) return [];
  if (services.length > 50) return swarm(f.engine.listTasks());
  return swarm(f.engine.listTasks({ filters: { service: services.map((s) => s.ID) } }));
}

/** A node as a task's status needs it: its hostname and its state (`ready`, `down`, `unknown`, `disconnected`). */
export interface NodeView {
  hostname: string;
  state: string;
}

async function nodeViews(f: Facility): Promise<Map<string, NodeView>> {
  const nodes: any[] = await swarm(f.engine.listNodes());
  return new Map(nodes.map((n) => [n.ID as string, { hostname: (n.Description?.Hostname ?? '') as string, state: (n.Status?.State ?? 'unknown') as string }]));
}

/** Task states in which a task's container may be running on its node. */
const LIVE_TASK_STATES = new Set(['assigned', 'accepted', 'preparing', 'ready', 'starting', 'running']);

/**
 * A task's state as far as it is known: the swarm's record of it, except that a task the
 * swarm last saw live on a node that is not `ready` now (Down, unreachable) is `unknown`: the
 * swarm cannot know whether it still runs.
 */
export function knownTaskState(taskState: string, nodeState: string | undefined): string {
  return LIVE_TASK_STATES.has(taskState) && nodeState !== undefined && nodeState !== 'ready' ? 'unknown' : taskState;
}

/** One current task in `get-app-status` (the columns of `docker service ps`, plus IDs). */
export interface TaskStatusJson {
  ID: string;
  Name: string;
  Node: string;
  NodeID: string;
  DesiredState: string;
  /** The task's state: `running`, `complete` (a finished job), `failed`, `pending`, `shutdown`, …; `unknown` when its node is not `ready` (see `NodeState`) */
  State: string;
  /** The state of the task's node: `ready`, `down`, `unknown`, `disconnected` (empty before the task is assigned a node). */
  NodeState: string;
  Message: string;
  Error: string;
  ContainerID: string;
  ExitCode: number | null;
  Ports: string;
}

/** `get-app-status` in swarm mode: `docker service ls --format json` plus the current tasks. */
export type ServiceStatusJson = ServiceJson & { Node: string; State: string; Tasks: TaskStatusJson[] };

/**
 * One service's status: the fields of `docker service ls --format json`, then `Node` and
 * `State` of its current task (with several tasks: their distinct hostnames / states, comma
 * separated, in slot order; a finished job reads `complete`; a task on a node that is not
 * `ready` reads `unknown`, {@link knownTaskState}), and `Tasks`, the current task of every slot
 * with its node's state (`NodeState`).
 */
export function formatServiceStatus(s: ServiceInspect, tasks: EngineTask[], nodes: Map<string, NodeView>): ServiceStatusJson {
  const base = formatService(s as any);
  const current = currentTasks(s, tasks).map(
    (t): TaskStatusJson => ({
      ID: t.ID,
      Name: taskName(s.Spec.Name, t),
      Node: t.NodeID ? (nodes.get(t.NodeID)?.hostname ?? '') : '',
      NodeID: t.NodeID ?? '',
      DesiredState: t.DesiredState ?? '',
      State: knownTaskState(t.Status?.State ?? '', t.NodeID ? (nodes.get(t.NodeID)?.state ?? 'unknown') : undefined),
      NodeState: t.NodeID ? (nodes.get(t.NodeID)?.state ?? 'unknown') : '',
      Message: t.Status?.Message ?? '',
      Error: t.Status?.Err ?? '',
      ContainerID: t.Status?.ContainerStatus?.ContainerID ?? '',
      ExitCode: typeof t.Status?.ContainerStatus?.ExitCode === 'number' ? t.Status.ContainerStatus.ExitCode : null,
      Ports: taskPorts(t),
    }),
  );
  const distinct = (xs: string[]): string => [...new Set(xs.filter((x) => x !== ''))].join(',');
  return {
    ID: base.ID,
    Image: base.Image,
    Mode: base.Mode,
    Name: base.Name,
    Node: distinct(current.map((t) => t.Node)),
    Ports: base.Ports,
    Replicas: base.Replicas,
    State: distinct(current.map((t) => t.State)),
    Tasks: current,
  };
}

/** The named apps' services (or all, or `user`'s), their tasks, and node ID -> hostname. */
async function servicesWithTasks(f: Facility, names?: string[], user?: string) {
  const all = await listServiceApps(f, { user });
  const batch = names ? pickApps(all, names, (s) => s.Spec.Name) : allOf(all);
  const services = batch.outcomes.flatMap((o) => (o.ok ? [o.value] : []));
  const [tasks, nodes] = await Promise.all([tasksOf(f, services), services.length ? nodeViews(f) : new Map<string, NodeView>()]);
  return { batch, services, tasks, nodes };
}

/**
 * `get-app-status` in swarm mode for the named apps (or all apps, or those of `user`), one
 * outcome per name (`app_not_found` for a name that does not exist).
 */
export async function serviceStatuses(f: Facility, names?: string[], user?: string): Promise<Batch<ServiceStatusJson>> {
  const { batch, tasks, nodes } = await servicesWithTasks(f, names, user);
  return mapOk(batch, (s) => formatServiceStatus(s, tasks, nodes));
}

/**
 * The service's inspect JSON, unchanged, as `docker service inspect` asks for it
 * (`GET /services/{id}?insertDefaults=true`); the object, not an array of one.
 */
export function serviceInfo(f: Facility, name: string): Promise<ServiceInspect> {
  return inspectServiceApp(f, name, true);
}

// --- Stats from the nodes ---------------------------------------------------------------------

/** One task's stats: `docker stats --format json` of its container, on its node. */
export type TaskStatsJson = StatsJson & { Service: string; Task: string; Node: string };
/**
 * `get-app-stats` in swarm mode: for every running current task of the named apps (or all
 * apps, or those of `user`), `docker stats --no-stream --format json` of its container, read
 * from the Engine of the node it runs on (`GET /containers/{id}/stats?stream=false` through the
 * facility's `nodes` endpoints; the manager's own tasks through the facility Engine when its
 * node has no entry), all concurrently, each with `Service`, `Task` and `Node`. A task whose
 * node cannot be reached (or has no endpoint) gets `{Service, Task, Node, error}` instead.
 * @returns `status` 200 when every entry has stats, 207 when some are errors, the errors'
 *   shared status when all are; `body` the array of entries
 * @throws DomainError 404 for a named app that does not exist
 */
export async function serviceStats(f: Facility, names?: string[], user?: string): Promise<Batch<TaskStatsJson>> {
  const { batch, services, tasks, nodes } = await servicesWithTasks(f, names, user);
  const running = services.flatMap((s) =>
    currentTasks(s, tasks)
      .filter((t) => t.Status?.State === 'running' && t.Status?.ContainerStatus?.ContainerID)
      .map((t) => ({ service: s.Spec.Name, task: t, node: t.NodeID ? (nodes.get(t.NodeID)?.hostname ?? '') : '' })),
  );
  let selfNodeId: Promise<string> | undefined;
  const managerNodeId = (): Promise<string> => (selfNodeId ??= f.engine.info().then((i) => (i.Swarm?.NodeID as string) ?? ''));
  const sampled = await mapBatch(
    allOf(running),
    async ({ service, task, node }): Promise<TaskStatsJson> => {
      const id: string = task.Status.ContainerStatus.ContainerID;
      let engine = nodeEngine(f, node)?.withSignal(f.engine.signal, undefined, f.engine.scope);
      if (!engine && task.NodeID && task.NodeID === (await managerNodeId())) engine = f.engine;
      if (!engine) {
        throw new DomainError('engine_unavailable', `No Engine endpoint for node '${node || task.NodeID}' in facility '${f.id}' (config: facilities.${f.id}.nodes)`, { node });
      }
      let s: any;
      try {
        s = await engine.containerStats(id);
      } catch (e) {
        if (e instanceof EngineError && e.statusCode === 404) {
          throw new DomainError('app_not_found', `Task ${task.ID} of '${service}' has no container on node '${node}' any more (the task ended meanwhile)`, { name: service }, { cause: e });
        }
        if (hasCode(e, 'engine_unavailable', 'engine_timeout')) {
          throw new DomainError(
            e.code,
            `Node '${node}' cannot be reached for the stats of task ${task.ID} of '${service}': ${e.detail}`,
            { node, ...(e.extra.retryAfter ? { retryAfter: e.extra.retryAfter } : {}) },
            { cause: e },
          );
        }
        throw e;
      }
      return { ...formatStats(computeStats(s), { container: truncateID(id), id, name: s.name }), Service: service, Task: task.ID, Node: node };
    },
    ({ service, task, node }) => ({ Service: service, Task: task.ID, Node: node }),
    f.config.statsConcurrency,
  );
  // names that do not exist answer app_not_found after the tasks of those that do
  return { single: false, outcomes: [...sampled.outcomes, ...batch.outcomes.filter((o) => !o.ok)] };
}

/**
 * `get-app-logs` in swarm mode: the log of every current task's container, read from the Engine
 * of the node it runs on (facility config `nodes`; the manager's own tasks through the facility
 * Engine), merged in arrival order, each line with its `task`. Follows until every task's
 * container stops.
 * @throws DomainError `app_not_found`; `engine_unavailable` naming a node without an endpoint
 */
export async function serviceLogs(f: Facility, name: string, opts: LogOptions): Promise<LogSource> {
  const s = await inspectServiceApp(f, name);
  const [tasks, nodes] = await Promise.all([tasksOf(f, [s]), nodeViews(f)]);
  const current = currentTasks(s, tasks).filter((t) => t.Status?.ContainerStatus?.ContainerID);
  let selfNodeId: Promise<string> | undefined;
  const managerNodeId = (): Promise<string> => (selfNodeId ??= f.engine.info().then((i) => (i.Swarm?.NodeID as string) ?? ''));
  const tty = !!s.Spec?.TaskTemplate?.ContainerSpec?.TTY;
  const streams = await Promise.all(
    current.map(async (t) => {
      const node = t.NodeID ? (nodes.get(t.NodeID)?.hostname ?? '') : '';
      let engine = nodeEngine(f, node)?.withSignal(f.engine.signal, undefined, f.engine.scope);
      if (!engine && t.NodeID && t.NodeID === (await managerNodeId())) engine = f.engine;
      if (!engine) throw new DomainError('engine_unavailable', `No Engine endpoint for node '${node || t.NodeID}' in facility '${f.id}' (config: facilities.${f.id}.nodes)`, { node });
      try {
        return { task: t.ID, stream: await engine.containerLogs(t.Status.ContainerStatus.ContainerID, opts) };
      } catch (e) {
        if (e instanceof EngineError && e.statusCode === 404) return undefined; // the task ended meanwhile
        throw e;
      }
    }),
  );
  const open = streams.filter((x) => x !== undefined);
  return {
    lines: mergeLines(open.map((x) => logLines(x.stream, { tty, timestamps: opts.timestamps, task: x.task }))),
    close: () => {
      for (const x of open) x.stream.destroy?.();
    },
  };
}
