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
 * - Ports: swarm's port config has no host address (moby#26696), so the facility's
 *   `publishHost` cannot apply and nothing is published unless the facility sets
 *   `swarm.publish: 'all'`. Then every exposed port is published in host mode (no routing mesh:
 *   it needs IPVS) on an engine-chosen port of every address of the node that runs the task;
 *   `docker service ps` shows the ports per task, and so does `get-app-status` (`Tasks[].Ports`).
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
import { DomainError } from './errors.ts';
import { EngineError, orNotFound } from './engine.ts';
import type { Facility } from './facility.ts';
import { appFilter, appLabels, appNameFor, appNotFound, appUsers, assertAppNameFree, isAppOf, LABELS, type CreateParams, type NameHolder } from './naming.ts';
import type { ImageReference } from './reference.ts';
import { engineMounts, exposedPorts, resolvePolicy, type Requested, type Resolved } from './policy.ts';
import type { AppResult } from './apps.ts';
import { swarmEngineError } from './mode.ts';
import { registryAuthFor } from './images/registry-auth.ts';
import { compareServiceNames } from './format/nodes.ts';
import { runAsFor } from './run-as.ts';
import { appEnvironment } from './gateway/url.ts';
import { loadConfig } from './config.ts';
import { createMountSourcesOnNodes } from './mount-sources.ts';
import { ensureUserNetwork, isNetworkMissing, releaseUserNetwork } from './user-network.ts';
import { removeConnector } from './gateway/connector.ts';

/** Docker's service-name rule (swarmkit `validateAnnotations`: a DNS name component, ≤ 63). */
export const SERVICE_NAME_RULE = /^[A-Za-z0-9](?:[-_]*[A-Za-z0-9]+)*$/;
/** The rule in words, for 400 answers. */
export const SERVICE_NAME_RULE_TEXT = "Docker's service-name rule: letters, digits, '-' and '_' only (no dots), starting and ending with a letter or digit, at most 63 characters";

/** Engine service inspect JSON (fields we read; the rest passes through unchanged). */
export type ServiceInspect = Record<string, any> & { ID: string; Spec: { Name: string; Labels?: Record<string, string> | null; [k: string]: any } };

/** Runs a swarm Engine call, turning "not a swarm manager" (503) into a clear DomainError. */
export async function swarm<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    swarmEngineError(e);
  }
}

/**
 * Checks that `name` can be a swarm service name.
 * @throws DomainError 400 naming the rule and the parameter (`image` or `user`) that breaks it
 */
export function assertServiceName(name: string, ref: ImageReference, user: string): void {
  if (SERVICE_NAME_RULE.test(name) && name.length <= 63) return;
  const imageOk = SERVICE_NAME_RULE.test(ref.name);
  const parameter = imageOk ? 'user' : 'image';
  const culprit = imageOk ? `user '${user}'` : `image name '${ref.name}'`;
  throw new DomainError('invalid_parameter', `${parameter}: app name '${name}' cannot be a swarm service name (${culprit}): ${SERVICE_NAME_RULE_TEXT}`, {
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
  /** The user's attachable overlay (core/user-network.ts); absent: none (unit tests). */
  network?: string;
  /** The task containers' environment, `NAME=value` (`SRC_BASE_URL`: core/gateway/url.ts `appEnvironment`); absent: none. */
  env?: string[];
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
        ...(a.env?.length ? { Env: a.env } : {}), // SRC_BASE_URL: where the gateway serves it
        ...(a.resolved.user ? { User: a.resolved.user } : {}),
        Groups: a.resolved.groups,
        Mounts: engineMounts(a.resolved),
        Privileges: { NoNewPrivileges: true },
      },
      Resources: { Limits: limits },
      RestartPolicy: { Condition: restartCondition(f, job) },
      ...(a.network ? { Networks: [{ Target: a.network }] } : {}),
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
 * @throws DomainError 404 `app_not_found` unless a service of exactly that name carries our labels for this facility
 */
export async function inspectServiceApp(f: Facility, name: string, insertDefaults = false): Promise<ServiceInspect> {
  const s = await inspectServiceOrNull(f, name, insertDefaults);
  if (!s || s.Spec?.Name !== name || !isAppOf(s.Spec?.Labels, f.id)) throw appNotFound(name);
  return s;
}

/**
 * 409 `app_exists` when a service holds `name` in any case (swarm's service names are unique
 * regardless of case, and `GET /services/{name}` finds a case twin), naming the service that
 * exists (core/naming.ts). The swarm itself refuses the second of two concurrent creates.
 */
async function assertServiceFree(f: Facility, name: string): Promise<void> {
  const [s, apps] = await Promise.all([inspectServiceOrNull(f, name), listServiceApps(f)]);
  const holders: NameHolder[] = apps.map((a) => ({ name: a.Spec.Name, labels: a.Spec.Labels ?? {} }));
  if (s?.Spec?.Name) holders.unshift({ name: s.Spec.Name, labels: s.Spec.Labels ?? {} });
  assertAppNameFree(f.id, name, holders, { kind: 'service', where: 'in the swarm' });
}

/**
 * Creates the app `IMAGE--USER` as a swarm service, started at once (`POST /services/create`,
 * no registry resolution), from an image present on the manager, under the facility's create
 * policy with the caller's `requested` limits; its tasks are told `SRC_BASE_URL` (where the
 * gateway serves the app), as solo apps are.
 * @returns `{ name, id, state: 'pending', image, imageId, ports, mode, replicas }`
 * @throws DomainError 400 name too long or not a valid service name, limits above the policy;
 *   404 image not on the manager; 409 the app (or a foreign service of that name) exists
 */
export async function createServiceApp(f: Facility, ref: ImageReference, user: string, requested: Requested = {}): Promise<AppResult> {
  const name = appNameFor(ref, user);
  assertServiceName(name, ref, user);
  resolvePolicy(f.config.policy, user, requested); // 400 before any lookup or Engine call
  const resolved = resolvePolicy(f.config.policy, user, requested, await runAsFor(f, user, ref)); // 403 no_identity
  await assertServiceFree(f, name);
  const image = await orNotFound(f.engine.inspectImage(ref.given));
  if (!image) throw new DomainError('image_not_found', `Image '${ref.given}' is not present on the swarm manager's Engine`, { image: ref.given });
  // nothing is published unless the facility says so (no port on an address its policy does not allow)
  const params: CreateParams = f.config.swarm.publish === 'all' ? { publishHost: '0.0.0.0', ports: exposedPorts(image), requested } : { publishHost: '', ports: [], requested };
  await createMountSourcesOnNodes(f, resolved); // 409 mount_source_missing when one cannot be made
  const env = await appEnvironment(loadConfig().gateway, f.id, name);
  let created: { ID: string };
  try {
    // Workers pull with the facility's credentials for the image's registry, if any (`--with-registry-auth`).
    const auth = registryAuthFor(f, ref.domain);
    for (let attempt = 0; ; attempt++) {
      const network = await swarm(ensureUserNetwork(f, user, 'swarm'));
      try {
        created = await swarm(f.engine.createService(serviceSpec(f, { name, user, ref, imageId: image.Id, params, resolved, network, env }), auth ? { 'X-Registry-Auth': auth } : undefined));
        break;
      } catch (e) {
        if (attempt < 3 && isNetworkMissing(e)) continue; // removed by the user's last kill meanwhile
        throw e;
      }
    }
  } catch (e) {
    if (e instanceof EngineError && e.statusCode === 409) {
      await assertServiceFree(f, name);
      // the holder was removed between the swarm's refusal and our look: nothing to name
      throw new DomainError('state_conflict', `${name}: a service of that name existed a moment ago and is gone now; retry`, { name, retryAfter: 1 }, { cause: e });
    }
    if (e instanceof EngineError) throw new DomainError('invalid_parameter', `The swarm refused the service: ${e.engineMessage}`, { parameter: 'image', rule: e.engineMessage });
    throw e;
  }
  const { serviceMode, replicas } = f.config.swarm;
  return { name, id: created.ID, state: 'pending', image: ref.given, imageId: image.Id, ports: params.ports, mode: serviceMode, replicas };
}

/**
 * Kills an app in swarm mode: removes its service (`DELETE /services/{id}`); the swarm stops its
 * tasks. Then removes the app's gateway connector (core/gateway/connector.ts) and releases the
 * user's overlay when it was their last app.
 */
export async function killServiceApp(f: Facility, name: string): Promise<AppResult> {
  const s = await inspectServiceApp(f, name);
  try {
    await swarm(f.engine.removeService(s.ID));
  } catch (e) {
    if (e instanceof EngineError && e.statusCode === 404) throw appNotFound(name);
    throw e;
  }
  // the gateway's connector is attached to the user's overlay: it goes first, or the overlay cannot
  await removeConnector(f, name).catch(() => undefined); // the maintenance sweep retries
  const user = s.Spec.Labels?.[LABELS.user];
  if (user) await releaseUserNetwork(f, user, 'swarm', async () => (await listServiceApps(f, { user })).length > 0);
  return { name, id: s.ID, state: 'removed' };
}

/**
 * The facility's app services (`GET /services?status=true`, filtered by our labels), sorted
 * as `docker service ls` sorts them.
 */
export async function listServiceApps(f: Facility, q: { user?: string } = {}): Promise<ServiceInspect[]> {
  const extra = q.user ? [`${LABELS.user}=${q.user}`] : [];
  const list: ServiceInspect[] = await swarm(f.engine.listServices({ status: true, filters: appFilter(f.id, extra) }));
  const apps = list.filter((s) => isAppOf(s.Spec?.Labels, f.id) && s.Spec.Name === s.Spec.Labels?.[LABELS.app]);
  apps.sort((a, b) => compareServiceNames(a.Spec.Name, b.Spec.Name));
  return apps;
}

/** Names of the facility's app services (of `user` when given), sorted. */
export async function serviceAppNames(f: Facility, user?: string): Promise<string[]> {
  return (await listServiceApps(f, { user })).map((s) => s.Spec.Name).sort();
}

/** Distinct users that have app services, sorted. */
export async function listServiceUsers(f: Facility): Promise<string[]> {
  return appUsers((await listServiceApps(f)).map((s) => s.Spec.Labels));
}
