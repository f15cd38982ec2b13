/**
 * Apps in swarm mode: Docker Swarm services named `IMAGE--USER`, labelled exactly as solo-mode
 * containers are (core/naming.ts), created through the facility's Engine, which must be a swarm
 * manager (core/mode.ts).
 *
 * - Created started, as the spec's table says. By default a replicated job (`replicated-job`,
 *   as the original API did) of `replicas` tasks; the facility option
 *   `swarm: { serviceMode: 'replicated', replicas: N }` makes long-running replicated services.
 * - No registry resolution: the image reference is used as given (pin a digest by giving
 *   `repo@sha256:…`). `POST /services/create` never asks a registry; only the docker CLI does,
 *   through `GET /distribution/{name}/json`, unless `--no-resolve-image`. The nodes of a swarm may
 *   not reach the registry: a node that has the image runs it after its pull attempt fails.
 *   When the facility has credentials for the image's registry (`images.registries`), they go
 *   with the service (`X-Registry-Auth`, as `--with-registry-auth`) so workers can pull.
 * - Exposed ports are published in host mode (no routing mesh: it needs IPVS), on an
 *   engine-chosen port of the node that runs the task; swarm's port config has no host address,
 *   so the facility's `publishHost` does not apply. `docker service ps` shows the ports per task,
 *   and so does `get-app-status` (`Tasks[].Ports`).
 * - The facility's create policy (core/policy.ts) applies as for containers: memory, CPU and PIDs
 *   limits, the `UID:GID` of the user map, the allowed bind mounts (on whichever node runs the
 *   task), no-new-privileges (Engines with API 1.46+; older ones ignore the field). Services are
 *   never privileged and never use the host's network, PID or IPC namespaces (swarm has no such
 *   options for services we set).
 * - Task stats come from the Engine of the node each task runs on (facility config `nodes`);
 *   a node that cannot be reached answers an error entry for its tasks, the others still answer.
 *
 * @module
 */
import { ApiError, batchStatus } from './errors.ts';
import { EngineError, orNotFound } from './engine.ts';
import { nodeEngine, type Facility } from './facility.ts';
import { appFilter, appLabels, appNameFor, appNotFound, appUsers, assertAppNameFree, isAppOf, LABELS, oneOrMany, pickApps, type CreateParams } from './naming.ts';
import type { ImageReference } from './reference.ts';
import { engineMounts, exposedPorts, resolvePolicy, type Requested, type Resolved } from './policy.ts';
import type { AppResult } from './apps.ts';
import { compareServiceNames, formatService, type ServiceJson } from './format/nodes.ts';
import { computeStats, formatStats, type StatsJson } from './format/stats.ts';
import { truncateID } from './format/go.ts';
import { swarmEngineError } from './mode.ts';
import { registryAuthFor } from './images.ts';

/** Docker's service-name rule (swarmkit `validateAnnotations`: a DNS name component, ≤ 63). */
export const SERVICE_NAME_RULE = /^[A-Za-z0-9](?:[-_]*[A-Za-z0-9]+)*$/;
/** The rule in words, for 400 answers. */
export const SERVICE_NAME_RULE_TEXT =
  "Docker's service-name rule: letters, digits, '-' and '_' only (no dots), starting and ending with a letter or digit, at most 63 characters";

/** Engine service inspect JSON (fields we read; the rest passes through unchanged). */
export type ServiceInspect = Record<string, any> & { ID: string; Spec: { Name: string; Labels?: Record<string, string> | null; [k: string]: any } };

/** Runs a swarm Engine call, turning "not a swarm manager" (503) into a clear ApiError. */
async function swarm<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    swarmEngineError(e);
  }
}

/**
 * Checks that `name` can be a swarm service name.
 * @throws ApiError 400 naming the rule and the parameter (`image` or `user`) that breaks it
 */
export function assertServiceName(name: string, ref: ImageReference, user: string): void {
  if (SERVICE_NAME_RULE.test(name) && name.length <= 63) return;
  const imageOk = SERVICE_NAME_RULE.test(ref.name);
  const parameter = imageOk ? 'user' : 'image';
  const culprit = imageOk ? `user '${user}'` : `image name '${ref.name}'`;
  throw new ApiError(400, 'invalid_parameter', `${parameter}: app name '${name}' cannot be a swarm service name (${culprit}): ${SERVICE_NAME_RULE_TEXT}`, {
    parameter,
    rule: SERVICE_NAME_RULE_TEXT,
    value: imageOk ? user : ref.given,
  });
}

/** Swarm restart condition for the facility's service mode (`swarm.restart`, else per mode). */
function restartCondition(f: Facility, job: boolean): 'none' | 'on-failure' | 'any' {
  const configured = f.config.swarm.restart;
  if (configured) return job && configured === 'any' ? 'on-failure' : configured;
  return job ? 'on-failure' : 'any';
}

/** What {@link serviceSpec} builds a service from. */
export interface ServiceSpecInput {
  name: string;
  user: string;
  ref: ImageReference;
  /** The image ID on the manager (recorded in the labels). */
  imageId: string;
  params: CreateParams;
  /** The create policy resolved for this app (core/policy.ts `resolvePolicy`). */
  resolved: Resolved;
}

/**
 * The Engine `ServiceSpec` of an app (`POST /services/create`): labels on the service and on
 * its task containers, the create policy as task resources and container settings, the
 * facility's service mode and replicas, exposed ports in host mode, DNS round-robin endpoint
 * (no virtual IP, no IPVS needed).
 *
 * @example
 * serviceSpec(f, { name: 'busybox--alice', user: 'alice', ref, imageId, params, resolved: resolvePolicy(f.config.policy, 'alice') })
 */
export function serviceSpec(f: Facility, a: ServiceSpecInput): Record<string, unknown> {
  const labels = appLabels(f.id, a.name, a.user, a.ref, a.imageId, a.params);
  const { serviceMode, replicas } = f.config.swarm;
  const job = serviceMode === 'replicated-job';
  const limits: Record<string, number> = {};
  if (a.resolved.memory !== undefined) limits.MemoryBytes = a.resolved.memory;
  if (a.resolved.nanoCpus !== undefined) limits.NanoCPUs = a.resolved.nanoCpus;
  if (a.resolved.pidsLimit !== undefined) limits.Pids = a.resolved.pidsLimit;
  return {
    Name: a.name,
    Labels: labels,
    TaskTemplate: {
      ContainerSpec: {
        Image: a.ref.given,
        Labels: labels,
        ...(a.resolved.user ? { User: a.resolved.user } : {}),
        Mounts: engineMounts(a.resolved),
        Privileges: { NoNewPrivileges: true },
      },
      Resources: { Limits: limits },
      RestartPolicy: { Condition: restartCondition(f, job) },
    },
    Mode: job ? { ReplicatedJob: { MaxConcurrent: replicas, TotalCompletions: replicas } } : { Replicated: { Replicas: replicas } },
    EndpointSpec: {
      Mode: 'dnsrr',
      Ports: a.params.ports.map((p) => {
        const [port, protocol] = p.split('/');
        return { Protocol: protocol || 'tcp', TargetPort: Number(port), PublishMode: 'host' };
      }),
    },
  };
}

function inspectServiceOrNull(f: Facility, name: string, insertDefaults = false): Promise<ServiceInspect | null> {
  return orNotFound(swarm(f.engine.inspectService(name, { insertDefaults })));
}

/**
 * Loads one app's service inspect JSON (`GET /services/{name}`).
 * @throws ApiError 404 `app_not_found` unless a service of exactly that name carries our labels for this facility
 */
export async function inspectServiceApp(f: Facility, name: string, insertDefaults = false): Promise<ServiceInspect> {
  const s = await inspectServiceOrNull(f, name, insertDefaults);
  if (!s || s.Spec?.Name !== name || !isAppOf(s.Spec?.Labels, f.id)) throw appNotFound(name);
  return s;
}

async function assertServiceFree(f: Facility, name: string): Promise<void> {
  const s = await inspectServiceOrNull(f, name);
  assertAppNameFree(f.id, name, s && s.Spec?.Name === name ? (s.Spec.Labels ?? {}) : null, { kind: 'service', where: 'in the swarm' });
}

/**
 * Creates the app `IMAGE--USER` as a swarm service, started at once (`POST /services/create`,
 * no registry resolution), from an image present on the manager, under the facility's create
 * policy with the caller's `requested` limits.
 * @returns `{ name, id, state: 'pending', image, imageId, ports, mode, replicas }`
 * @throws ApiError 400 name too long or not a valid service name, limits above the policy;
 *   404 image not on the manager; 409 the app (or a foreign service of that name) exists
 */
export async function createServiceApp(f: Facility, ref: ImageReference, user: string, requested: Requested = {}): Promise<AppResult> {
  const name = appNameFor(ref, user);
  assertServiceName(name, ref, user);
  const resolved = resolvePolicy(f.config.policy, user, requested); // 400 before any Engine call
  await assertServiceFree(f, name);
  const image = await orNotFound(f.engine.inspectImage(ref.given));
  if (!image) throw new ApiError(404, 'image_not_found', `Image '${ref.given}' is not present on the swarm manager's Engine`, { image: ref.given });
  const params: CreateParams = { publishHost: '0.0.0.0', ports: exposedPorts(image), requested };
  let created: { ID: string };
  try {
    // Workers pull with the facility's credentials for the image's registry, if any (`--with-registry-auth`).
    const auth = registryAuthFor(f, ref.domain);
    created = await swarm(f.engine.createService(serviceSpec(f, { name, user, ref, imageId: image.Id, params, resolved }), auth ? { 'X-Registry-Auth': auth } : undefined));
  } catch (e) {
    if (e instanceof EngineError && e.statusCode === 409) {
      await assertServiceFree(f, name);
      throw new ApiError(409, 'app_exists', `App '${name}' already exists`, { name });
    }
    if (e instanceof EngineError) throw new ApiError(400, 'invalid_parameter', `The swarm refused the service: ${e.engineMessage}`, { parameter: 'image', rule: e.engineMessage });
    throw e;
  }
  const { serviceMode, replicas } = f.config.swarm;
  return { name, id: created.ID, state: 'pending', image: ref.given, imageId: image.Id, ports: params.ports, mode: serviceMode, replicas };
}

/** Kills an app in swarm mode: removes its service (`DELETE /services/{id}`); the swarm stops its tasks. */
export async function killServiceApp(f: Facility, name: string): Promise<AppResult> {
  const s = await inspectServiceApp(f, name);
  try {
    await swarm(f.engine.removeService(s.ID));
  } catch (e) {
    if (e instanceof EngineError && e.statusCode === 404) throw appNotFound(name);
    throw e;
  }
  return { name, id: s.ID, state: 'removed' };
}

/**
 * The facility's app services (`GET /services?status=true`, filtered by our labels), sorted
 * as `docker service ls` sorts them; with `names`, those services in that order.
 * @throws ApiError 404 for a named app that does not exist
 */
export async function listServiceApps(f: Facility, q: { user?: string; names?: string[] } = {}): Promise<ServiceInspect[]> {
  const extra = q.user ? [`${LABELS.user}=${q.user}`] : [];
  const list: ServiceInspect[] = await swarm(f.engine.listServices({ status: true, filters: appFilter(f.id, extra) }));
  const apps = list.filter((s) => isAppOf(s.Spec?.Labels, f.id) && s.Spec.Name === s.Spec.Labels?.[LABELS.app]);
  apps.sort((a, b) => compareServiceNames(a.Spec.Name, b.Spec.Name));
  return q.names ? pickApps(apps, q.names, (s) => s.Spec.Name) : apps;
}

/** Names of the facility's app services (of `user` when given), sorted. */
export async function serviceAppNames(f: Facility, user?: string): Promise<string[]> {
  return (await listServiceApps(f, { user })).map((s) => s.Spec.Name).sort();
}

/** Distinct users that have app services, sorted. */
export async function listServiceUsers(f: Facility): Promise<string[]> {
  return appUsers((await listServiceApps(f)).map((s) => s.Spec.Labels));
}

// --- Tasks ------------------------------------------------------------------------------------

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

async function nodeHostnames(f: Facility): Promise<Map<string, string>> {
  const nodes: any[] = await swarm(f.engine.listNodes());
  return new Map(nodes.map((n) => [n.ID as string, (n.Description?.Hostname ?? '') as string]));
}

/** One current task in `get-app-status` (the columns of `docker service ps`, plus IDs). */
export interface TaskStatusJson {
  ID: string;
  Name: string;
  Node: string;
  NodeID: string;
  DesiredState: string;
  /** The task's state: `running`, `complete` (a finished job), `failed`, `pending`, `shutdown`, … */
  State: string;
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
 * separated, in slot order; a finished job reads `complete`), and `Tasks`, the current task of
 * every slot.
 */
export function formatServiceStatus(s: ServiceInspect, tasks: EngineTask[], hostnames: Map<string, string>): ServiceStatusJson {
  const base = formatService(s as any);
  const current = currentTasks(s, tasks).map(
    (t): TaskStatusJson => ({
      ID: t.ID,
      Name: taskName(s.Spec.Name, t),
      Node: t.NodeID ? (hostnames.get(t.NodeID) ?? '') : '',
      NodeID: t.NodeID ?? '',
      DesiredState: t.DesiredState ?? '',
      State: t.Status?.State ?? '',
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
  const services = await listServiceApps(f, { names, user });
  const [tasks, hostnames] = await Promise.all([tasksOf(f, services), services.length ? nodeHostnames(f) : new Map<string, string>()]);
  return { services, tasks, hostnames };
}

/**
 * `get-app-status` in swarm mode for the named apps (or all apps, or those of `user`): one
 * object for one name, else an array.
 * @throws ApiError 404 for a named app that does not exist
 */
export async function serviceStatuses(f: Facility, names?: string[], user?: string): Promise<ServiceStatusJson | ServiceStatusJson[]> {
  const { services, tasks, hostnames } = await servicesWithTasks(f, names, user);
  return oneOrMany(names, services.map((s) => formatServiceStatus(s, tasks, hostnames)));
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
/** A task whose stats could not be read: which one, and why (a problem object). */
export interface TaskStatsError {
  Service: string;
  Task: string;
  Node: string;
  error: Record<string, unknown>;
}

/**
 * `get-app-stats` in swarm mode: for every running current task of the named apps (or all
 * apps, or those of `user`), `docker stats --no-stream --format json` of its container, read
 * from the Engine of the node it runs on (`GET /containers/{id}/stats?stream=false` through the
 * facility's `nodes` endpoints; the manager's own tasks through the facility Engine when its
 * node has no entry), all concurrently, each with `Service`, `Task` and `Node`. A task whose
 * node cannot be reached (or has no endpoint) gets `{Service, Task, Node, error}` instead.
 * @returns `status` 200 when every entry has stats, 207 when some are errors, the errors'
 *   shared status when all are; `body` the array of entries
 * @throws ApiError 404 for a named app that does not exist
 */
export async function serviceStats(f: Facility, names?: string[], user?: string): Promise<{ status: number; body: (TaskStatsJson | TaskStatsError)[] }> {
  const { services, tasks, hostnames } = await servicesWithTasks(f, names, user);
  const running = services.flatMap((s) =>
    currentTasks(s, tasks)
      .filter((t) => t.Status?.State === 'running' && t.Status?.ContainerStatus?.ContainerID)
      .map((t) => ({ service: s.Spec.Name, task: t, node: t.NodeID ? (hostnames.get(t.NodeID) ?? '') : '' })),
  );
  let selfNodeId: Promise<string> | undefined;
  const managerNodeId = (): Promise<string> => (selfNodeId ??= f.engine.info().then((i) => (i.Swarm?.NodeID as string) ?? ''));
  const body = await Promise.all(
    running.map(async ({ service, task, node }): Promise<TaskStatsJson | TaskStatsError> => {
      const id: string = task.Status.ContainerStatus.ContainerID;
      const where = { Service: service, Task: task.ID, Node: node };
      try {
        let engine = nodeEngine(f, node);
        if (!engine && task.NodeID && task.NodeID === (await managerNodeId())) engine = f.engine;
        if (!engine) {
          throw new ApiError(503, 'engine_unavailable', `No Engine endpoint for node '${node || task.NodeID}' in facility '${f.id}' (config: facilities.${f.id}.nodes)`, { node });
        }
        let s: any;
        try {
          s = await engine.containerStats(id);
        } catch (e) {
          if (e instanceof EngineError && e.statusCode === 404) {
            throw new ApiError(404, 'app_not_found', `Task ${task.ID} of '${service}' has no container on node '${node}' any more (the task ended meanwhile)`, { name: service });
          }
          if (e instanceof ApiError && (e.code === 'engine_unavailable' || e.code === 'engine_timeout')) {
            throw new ApiError(e.status, e.code, `Node '${node}' cannot be reached for the stats of task ${task.ID} of '${service}': ${e.detail}`, { node });
          }
          throw e;
        }
        return { ...formatStats(computeStats(s), { container: truncateID(id), id, name: s.name }), ...where };
      } catch (e) {
        if (e instanceof ApiError) return { ...where, error: e.toJSON() };
        throw e;
      }
    }),
  );
  const failed = body.filter((x): x is TaskStatsError => 'error' in x).map((x) => x.error.status as number);
  return { status: batchStatus(failed, body.length), body };
}
