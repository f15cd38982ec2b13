/**
 * Where the gateway reaches an app (the backends' `upstream`, core/backend.ts).
 *
 * Solo: the container's address on its network(s) (`NetworkSettings.Networks[*].IPAddress`
 * of `GET /containers/{id}/json`; the host reaches container addresses on its local bridges),
 * else, for a container without one, its published port on the facility's `publishHost`. The
 * port is the app's first exposed TCP port (the image's `EXPOSE`, as create-app recorded it).
 *
 * Swarm: not yet; the host has no route into the swarm's overlays, and reaching them needs a
 * connector on a manager (issue 13, item 6): `wrong_mode` until then.
 *
 * @module
 */
import { DomainError } from '../errors.ts';
import type { Facility } from '../facility.ts';
import { inspectApp } from '../apps.ts';

/** Where the gateway reaches an app: an address and TCP port (and the swarm node, later). */
export interface Upstream {
  host: string;
  port: number;
  node?: string;
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
  const exposed = Object.keys((c.Config as { ExposedPorts?: Record<string, unknown> | null }).ExposedPorts ?? {})
    .filter((p) => p.endsWith('/tcp'))
    .map((p) => Number(p.split('/')[0]))
    .sort((a, b) => a - b);
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

/**
 * The upstream of swarm app `name`: not reachable from the gateway yet.
 * @throws DomainError `wrong_mode`
 */
export async function swarmUpstream(f: Facility, name: string): Promise<Upstream> {
  throw new DomainError('wrong_mode', `The gateway does not reach swarm apps yet (facility '${f.id}', app '${name}'): it needs a connector on the swarm's overlays`, {
    mode: 'swarm',
    modes: ['solo'],
  });
}
