/**
 * Where the gateway reaches an app (the backends' `upstream`, core/backend.ts).
 *
 * Solo: the container's address on its network(s) (`NetworkSettings.Networks[*].IPAddress`
 * of `GET /containers/{id}/json`; the host reaches container addresses on its local bridges),
 * else, for a container without one, its published port on the facility's `publishHost`. The
 * port is the app's first exposed TCP port (the image's `EXPOSE`, as create-app recorded it).
 *
 * Swarm: the host has no route into the swarm's overlays; each opened app gets a connector on
 * the manager (core/gateway/connector.ts), a Unix socket the gateway connects to.
 *
 * @module
 */
import { DomainError } from '../errors.ts';
import type { Facility } from '../facility.ts';
import { inspectApp } from '../apps.ts';
import { orNotFound } from '../engine.ts';
import { LABELS } from '../naming.ts';
import { inspectServiceApp, swarm } from '../services.ts';
import { userNetworkName } from '../user-network.ts';
import { ensureConnector } from './connector.ts';
import { exposedPorts } from '../policy.ts';

/**
 * Where the gateway reaches an app: an address and TCP port, or (swarm) the Unix socket of the
 * app's connector, which forwards to `host:port` on the app's overlay.
 */
export interface Upstream {
  host: string;
  port: number;
  node?: string;
  /** Swarm: connect here (a Unix socket on the gateway's host) instead of `host:port`. */
  socketPath?: string;
}

/**
 * The upstream of solo app `name`.
 * @throws DomainError `app_not_found`; `state_conflict` when it is not running or exposes no TCP port
 */
export async function soloUpstream(f: Facility, name: string): Promise<Upstream> {
  const c = await inspectApp(f, name);
  if (!c.State.Running || c.State.Paused) {
    throw new DomainError('state_conflict', `${name} is ${c.State.Status}: start it (or unpause it) to open it`, { name, state: c.State.Status });
  }
  const exposed = exposedTcpPorts(c as { Config?: { ExposedPorts?: Record<string, unknown> | null } });
  if (exposed.length === 0) throw new DomainError('state_conflict', `${name} exposes no TCP port: there is nothing to open`, { name, state: c.State.Status });
  const port = exposed[0];
  const networks = (c.NetworkSettings?.Networks ?? {}) as Record<string, { IPAddress?: string }>;
  const ip = Object.values(networks)
    .map((n) => n?.IPAddress)
    .find((a) => !!a);
  if (ip) return { host: ip, port };
  const bound = (c.NetworkSettings?.Ports?.[`${port}/tcp`] ?? []) as { HostIp: string; HostPort: string }[];
  const b = bound.find((x) => x.HostPort);
  if (b) return { host: b.HostIp === '0.0.0.0' || b.HostIp === '' ? '127.0.0.1' : b.HostIp === '::' ? '::1' : b.HostIp, port: Number(b.HostPort) };
  throw new DomainError('state_conflict', `${name} has no network address and no published port the gateway can reach`, { name, state: c.State.Status });
}

/** The exposed TCP port numbers of an image's or a container's `Config`, ascending (core/policy.ts `exposedPorts`). */
function exposedTcpPorts(x: { Config?: { ExposedPorts?: Record<string, unknown> | null } | null }): number[] {
  return exposedPorts(x)
    .filter((p) => p.endsWith('/tcp'))
    .map((p) => Number(p.split('/')[0]))
    .sort((a, b) => a - b);
}

const imagePorts = new Map<string, number[]>();

/** The exposed TCP ports of image `id` on the manager, ascending (image IDs never change: cached). */
async function exposedTcp(f: Facility, id: string): Promise<number[]> {
  const hit = imagePorts.get(id);
  if (hit) return hit;
  const image = await orNotFound(f.engine.inspectImage(id));
  if (!image) return [];
  const ports = exposedTcpPorts(image);
  if (imagePorts.size > 1000) imagePorts.clear();
  imagePorts.set(id, ports);
  return ports;
}

/**
 * The upstream of swarm app `name`: the Unix socket of its connector on the manager
 * (core/gateway/connector.ts), made or repaired here. The app must have a running task
 * (`GET /tasks?filters={service,desired-state: running}`); the port is the first exposed TCP
 * port of the image it was created from (`GET /images/{id}/json` on the manager).
 * @returns `{ host: SERVICE, port, socketPath }`
 * @throws DomainError `app_not_found`; `state_conflict` (no running task, no TCP port);
 *   `app_unreachable` (no connector image, no socket)
 */
export async function swarmUpstream(f: Facility, name: string): Promise<Upstream> {
  const s = await inspectServiceApp(f, name);
  const tasks: any[] = await swarm(f.engine.listTasks({ filters: { service: [s.ID], 'desired-state': ['running'] } }));
  const running = tasks.filter((t) => t.Status?.State === 'running');
  if (running.length === 0) {
    const state = tasks[0]?.Status?.State ?? 'no task';
    throw new DomainError('state_conflict', `${name} has no running task (${state}): there is nothing to open until one runs`, { name, state });
  }
  const labels = s.Spec.Labels ?? {};
  const ports = await exposedTcp(f, labels[LABELS.imageId] ?? s.Spec.TaskTemplate?.ContainerSpec?.Image);
  if (ports.length === 0) throw new DomainError('state_conflict', `${name} exposes no TCP port: there is nothing to open`, { name, state: 'running' });
  const network = userNetworkName(f.id, labels[LABELS.user] ?? '');
  const socketPath = await ensureConnector(f, { app: s.Spec.Name, network, port: ports[0] });
  return { host: s.Spec.Name, port: ports[0], socketPath };
}
