/**
 * The create policy: what every app of a facility gets, whatever the caller asks.
 *
 * Fixed for every app: never privileged, no host network, PID or IPC namespace, no added
 * capabilities, `no-new-privileges`. From the facility config (`policy`): default and maximum
 * memory, CPUs and PIDs, the restart policy, the only host mounts allowed (templates with
 * `{user}`), and the user's `UID:GID` from the user map.
 *
 * @example
 * resolvePolicy({ memory: { default: 536870912, max: 2147483648 }, ... }, 'alice', { cpus: 1 })
 * // => { memory: 536870912, nanoCpus: 1e9, mounts: [...], restart: 'no', user: '1001:1001' }
 *
 * @module
 */
import type { CreatePolicy } from './config.ts';
import { DomainError } from './errors.ts';
import { bytesSize } from './format/units.ts';

/** Limits a caller may ask for at create time (bytes, CPUs, processes). */
export interface Requested {
  memory?: number;
  cpus?: number;
  pids?: number;
}

/**
 * Who an app runs as (core/run-as.ts `runAsFor`): `user` `UID:GID` (absent: the image's own
 * user, only for the policy's `rootImages`), supplementary `groups`, and whether the policy's
 * host mounts apply (only for a user with an identity, never for a root image).
 */
export interface RunAs {
  user?: string;
  groups: string[];
  hostMounts: boolean;
}

/** A policy resolved for one app. */
export interface Resolved {
  memory?: number;
  nanoCpus?: number;
  pidsLimit?: number;
  /** `UID:GID` to run as (absent: the image's user, for an allowed root image only). */
  user?: string;
  /** Supplementary group IDs (`HostConfig.GroupAdd`, `ContainerSpec.Groups`). */
  groups: string[];
  /** `create`: a missing source is made, owned by the app's UID:GID (core/mount-sources.ts). */
  mounts: { source: string; target: string; readOnly: boolean; create: boolean }[];
  restart: 'no' | 'on-failure' | 'unless-stopped' | 'always';
}

function pick(name: 'memory' | 'cpus' | 'pids', asked: number | undefined, lim: { default?: number; max?: number } | undefined): number | undefined {
  const max = lim?.max;
  if (asked !== undefined && max !== undefined && asked > max) {
    const shown = name === 'memory' ? `${bytesSize(max)} (${max} bytes)` : String(max);
    throw new DomainError('invalid_parameter', `${name}: must be at most ${shown} (the facility's maximum)`, { parameter: name, rule: `at most ${shown}`, value: asked });
  }
  const v = asked ?? lim?.default;
  return v === undefined ? max : v;
}

/**
 * Resolves the policy for `user`'s app with the caller's `requested` limits, running as `runAs`
 * (default, for callers without a lookup: the user map's `UID:GID` with host mounts, else the
 * facility's fallback identity without them).
 * @throws DomainError 400 naming the parameter when a request exceeds the facility's maximum
 */
export function resolvePolicy(policy: CreatePolicy, user: string, requested: Requested = {}, runAs: RunAs = staticRunAs(policy, user)): Resolved {
  const memory = pick('memory', requested.memory, policy.memory);
  const cpus = pick('cpus', requested.cpus, policy.cpus);
  const pids = pick('pids', requested.pids, policy.pids);
  return {
    memory,
    nanoCpus: cpus === undefined ? undefined : Math.round(cpus * 1e9),
    pidsLimit: pids,
    user: runAs.user,
    groups: runAs.groups,
    // host directories only for a user with an identity: never as the fallback UID or as root
    mounts: runAs.hostMounts ? policy.mounts.map((m) => ({ source: m.source.replaceAll('{user}', user), target: m.target.replaceAll('{user}', user), readOnly: m.readOnly, create: m.create })) : [],
    restart: policy.restart,
  };
}

/** Who `user`'s app runs as from the static user map alone (no directory lookup). */
export function staticRunAs(policy: CreatePolicy, user: string): RunAs {
  if (Object.hasOwn(policy.userMap, user)) {
    const [uid, gid = uid] = policy.userMap[user].split(':');
    if (Number(uid) !== 0 && Number(gid) !== 0) return { user: `${uid}:${gid}`, groups: [], hostMounts: true };
  }
  return { user: policy.identity.fallback, groups: [], hostMounts: false };
}

/**
 * The Engine `HostConfig` for a container under `resolved` (`POST /containers/create`),
 * publishing `ports` on `publishHost` to engine-chosen host ports, attached to `network` (the
 * user's own network, core/user-network.ts).
 */
export function containerHostConfig(resolved: Resolved, ports: string[], publishHost: string, network = 'bridge'): Record<string, unknown> {
  return {
    PortBindings: Object.fromEntries(ports.map((p) => [p, [{ HostIp: publishHost, HostPort: '' }]])),
    Privileged: false,
    GroupAdd: resolved.groups,
    NetworkMode: network,
    PidMode: '',
    IpcMode: 'private',
    CapAdd: [],
    SecurityOpt: ['no-new-privileges:true'],
    RestartPolicy: { Name: resolved.restart, MaximumRetryCount: 0 },
    Memory: resolved.memory ?? 0,
    NanoCpus: resolved.nanoCpus ?? 0,
    PidsLimit: resolved.pidsLimit ?? 0,
    Mounts: engineMounts(resolved),
  };
}

/** The policy's bind mounts as Engine `Mount` objects (containers' `HostConfig.Mounts`, services' `ContainerSpec.Mounts`). */
export function engineMounts(resolved: Resolved): { Type: 'bind'; Source: string; Target: string; ReadOnly: boolean }[] {
  return resolved.mounts.map((m) => ({ Type: 'bind', Source: m.source, Target: m.target, ReadOnly: m.readOnly }));
}

/** An image's exposed ports (`Config.ExposedPorts` of `GET /images/{name}/json`), sorted: `['80/tcp', …]`. */
export function exposedPorts(image: { Config?: { ExposedPorts?: Record<string, unknown> | null } | null }): string[] {
  return Object.keys(image.Config?.ExposedPorts ?? {}).sort();
}
