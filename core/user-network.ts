/**
 * One network per user: a user's apps share it, and no app is on the default bridge, so one
 * user's app cannot reach another's at its container address (the Engine isolates bridge
 * networks from each other).
 *
 * - Solo: a bridge `srcnet--FACILITY--USER` ({@link userNetworkName}) with a subnet from the facility's address pool
 *   (`networks.pool`, default `10.213.0.0/16`, split into `/networks.prefix` subnets, default
 *   /27: 2048 users of up to 29 apps). The host reaches app addresses directly.
 * - Swarm: an attachable overlay of the same name (the swarm allocates its subnet).
 *
 * Concurrency: the name is deterministic and the Engine refuses a second network of that name
 * (409, taken as success); a subnet another network took meanwhile makes the create try the next
 * one. The network is removed with the user's last app ({@link releaseUserNetwork}); a create
 * racing with that removal re-creates it (the create retries on "network not found", and the
 * remover re-checks for apps after removing).
 *
 * @module
 */
import { EngineError, orNotFound } from './engine.ts';
import { DomainError } from './errors.ts';
import type { Facility } from './facility.ts';
import { LABEL_PREFIX, LABELS } from './naming.ts';
import { log } from './log.ts';

/** Labels of our networks. */
export const NETWORK_LABELS = { facility: `${LABEL_PREFIX}network.facility`, user: `${LABEL_PREFIX}network.user` } as const;

/**
 * The network name of `user`'s apps in facility `facility`: `srcnet--FACILITY--USER` (a user
 * name never holds `--`, so the last `--` splits it), a valid DNS name component as swarm
 * requires of overlays; when that is longer than 63 characters or not valid, `srcnet--h<hash>`.
 */
export function userNetworkName(facility: string, user: string): string {
  const plain = `srcnet--${facility}--${user.toLowerCase()}`;
  if (plain.length <= 63 && /^[A-Za-z0-9](?:[-_]*[A-Za-z0-9]+)*$/.test(plain)) return plain;
  return `srcnet--h${hash(`${facility}\u0000${user.toLowerCase()}`).toString(16).padStart(8, '0')}${hash(`${user.toLowerCase()}\u0000${facility}`).toString(16).padStart(8, '0')}`;
}

/** IPv4 dotted quad -> 32-bit number. */
function ipToInt(ip: string): number {
  return ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);
}
function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}
/** `[first, last]` addresses of a CIDR block. */
export function cidrRange(cidr: string): [number, number] {
  const [ip, bits] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  const start = Math.floor(ipToInt(ip) / size) * size;
  return [start, start + size - 1];
}

/** The `index`-th `/prefix` subnet of `pool`. */
export function poolSubnet(pool: string, prefix: number, index: number): string {
  const [start] = cidrRange(pool);
  return `${intToIp(start + index * 2 ** (32 - prefix))}/${prefix}`;
}

/** How many `/prefix` subnets `pool` holds. */
export function poolSize(pool: string, prefix: number): number {
  return 2 ** (prefix - Number(pool.split('/')[1]));
}

/** FNV-1a of a string: where a user's subnet search starts (spreads concurrent creates of different users). */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** Subnets (IPv4 CIDR) of every network on the Engine. */
async function usedSubnets(f: Facility): Promise<[number, number][]> {
  const nets = await f.engine.listNetworks();
  const out: [number, number][] = [];
  for (const n of nets) for (const c of n.IPAM?.Config ?? []) if (typeof c.Subnet === 'string' && c.Subnet.includes('.')) out.push(cidrRange(c.Subnet));
  return out;
}

const overlaps = (a: [number, number], b: [number, number]) => a[0] <= b[1] && b[0] <= a[1];

/**
 * Makes sure `user`'s network exists on the facility's Engine (solo: a bridge with a subnet
 * from the pool; swarm: an attachable overlay) and returns its name.
 * @throws DomainError `engine_error` when the pool has no free subnet, or a foreign network holds the name
 */
export function ensureUserNetwork(f: Facility, user: string, mode: 'solo' | 'swarm'): Promise<string> {
  // one create at a time per network in this process (the Engine's duplicate-name check is not atomic)
  const key = `${f.config.engine.host}\u0000${userNetworkName(f.id, user)}`;
  const running = inflight.get(key);
  if (running) return running;
  const p = ensureOnce(f, user, mode).finally(() => inflight.delete(key));
  inflight.set(key, p);
  return p;
}

const inflight = new Map<string, Promise<string>>();

async function ensureOnce(f: Facility, user: string, mode: 'solo' | 'swarm'): Promise<string> {
  const name = userNetworkName(f.id, user);
  const existing = await orNotFound(f.engine.inspectNetwork(name));
  if (existing) return checkOurs(f, name, existing);
  const labels = { [LABELS.schema]: '1', [NETWORK_LABELS.facility]: f.id, [NETWORK_LABELS.user]: user.toLowerCase() };
  if (mode === 'swarm') return createOrTolerate(f, name, { Name: name, Driver: 'overlay', Attachable: true, Labels: labels });
  const { pool, prefix } = f.config.networks;
  const n = poolSize(pool, prefix);
  const used = await usedSubnets(f);
  const start = hash(name) % n;
  for (let i = 0, tries = 0; i < n && tries < 32; i++) {
    const subnet = poolSubnet(pool, prefix, (start + i) % n);
    if (used.some((u) => overlaps(u, cidrRange(subnet)))) continue;
    tries++;
    try {
      return await createOrTolerate(f, name, {
        Name: name,
        Driver: 'bridge',
        Labels: labels,
        IPAM: { Driver: 'default', Config: [{ Subnet: subnet }] },
        Options: { 'com.docker.network.bridge.enable_icc': 'true' },
      });
    } catch (e) {
      // another network took this subnet meanwhile: try the next one
      if (e instanceof EngineError && /overlap/i.test(e.engineMessage)) continue;
      if (e instanceof DomainError && /overlap/i.test(e.detail)) continue;
      throw e;
    }
  }
  throw new DomainError('engine_error', `No free /${prefix} subnet left in facility '${f.id}''s network pool ${pool}; an admin should widen networks.pool`);
}

async function createOrTolerate(f: Facility, name: string, body: Record<string, unknown>): Promise<string> {
  try {
    await f.engine.createNetwork(body);
    await dedupe(f, name);
    return name;
  } catch (e) {
    if (!(e instanceof EngineError && e.statusCode === 409)) throw e;
    // a concurrent create of the same user's network won: use it
    const now = await orNotFound(f.engine.inspectNetwork(name));
    if (!now) throw e;
    return checkOurs(f, name, now);
  }
}

/**
 * Two processes creating the same network at once can both succeed (the Engine's duplicate
 * check races), and a name held by two networks cannot be used ("ambiguous"). All keep the
 * oldest (then lowest ID) and remove the others.
 */
async function dedupe(f: Facility, name: string): Promise<void> {
  const same = (await f.engine.listNetworks({ filters: { name: [name] } })).filter((n) => n.Name === name);
  if (same.length < 2) return;
  same.sort((a, b) => String(a.Created).localeCompare(String(b.Created)) || String(a.Id).localeCompare(String(b.Id)));
  await Promise.all(same.slice(1).map((n) => f.engine.removeNetwork(n.Id).catch(() => undefined)));
}

function checkOurs(f: Facility, name: string, net: { Labels?: Record<string, string> | null }): string {
  if (net.Labels?.[NETWORK_LABELS.facility] !== f.id || userNetworkName(f.id, net.Labels?.[NETWORK_LABELS.user] ?? '') !== name) {
    throw new DomainError('engine_error', `A network named ${name} exists on facility '${f.id}''s Engine but this API did not create it; an admin should remove or rename it`, { network: name });
  }
  return name;
}

/**
 * Removes `user`'s network when `hasApps()` says the user has no app left. Tolerates a
 * network that is gone or still has endpoints (a task shutting down, a concurrent create);
 * after removing it, checks again and re-creates it for an app created meanwhile.
 */
export async function releaseUserNetwork(f: Facility, user: string, mode: 'solo' | 'swarm', hasApps: () => Promise<boolean>): Promise<void> {
  try {
    if (await hasApps()) return;
    try {
      await f.engine.removeNetwork(userNetworkName(f.id, user));
    } catch (e) {
      if (e instanceof EngineError && e.statusCode === 403 && mode === 'swarm') {
        // the removed service's tasks still hold the overlay while they stop: retry in the background
        void retryRelease(f, user, hasApps);
        return;
      }
      if (e instanceof EngineError && [403, 404, 409].includes(e.statusCode)) return; // attached, gone, or in use
      throw e;
    }
    if (await hasApps()) await ensureUserNetwork(f, user, mode);
  } catch (e) {
    // the app's own action succeeded; a network left behind is removed with the next delete
    log('network').error('facility {facility}: releasing the network of {user} failed: {detail}', { facility: f.id, user, detail: (e as Error)?.message ?? String(e) });
  }
}

/** Whether an Engine error says a network is missing (a create racing with the user's last delete). */
export function isNetworkMissing(e: unknown): boolean {
  if (e instanceof EngineError) return /network\b.*\bnot found/i.test(e.engineMessage);
  return e instanceof DomainError && /network\b.*\bnot found/i.test(e.detail);
}

/** Retries removing a swarm user's overlay for about 30 s while the tasks of their last service stop. */
async function retryRelease(f: Facility, user: string, hasApps: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 30; i++) {
    await new Promise((r) => setTimeout(r, 1000));
    try {
      if (await hasApps()) return;
      await f.engine.removeNetwork(userNetworkName(f.id, user));
      if (await hasApps()) await ensureUserNetwork(f, user, 'swarm');
      return;
    } catch (e) {
      if (!(e instanceof EngineError && e.statusCode === 403)) return; // gone, or the Engine is away: the sweep will see
    }
  }
}

/** How old an unused user network must be before a sweep removes it (ms). */
export const NETWORK_PRUNE_GRACE_MS = 10 * 60_000;

/**
 * Removes the facility's user networks whose user has no app left (`usersWithApps`): what a
 * release left behind (tasks still stopping, a crash between the delete and the release).
 * Networks still attached, and networks younger than `graceMs` (a create in another process
 * may be using it), are left for the next sweep.
 * @returns the names removed
 */
export async function pruneUserNetworks(f: Facility, mode: 'solo' | 'swarm', usersWithApps: () => Promise<Set<string>>, graceMs = NETWORK_PRUNE_GRACE_MS): Promise<string[]> {
  const nets = await f.engine.listNetworks({ filters: { label: [`${NETWORK_LABELS.facility}=${f.id}`] } });
  const before = await usersWithApps();
  const removed: string[] = [];
  for (const n of nets) {
    const user = n.Labels?.[NETWORK_LABELS.user];
    if (!user || before.has(user)) continue;
    // a network this young may belong to a create under way in another process (network made,
    // container not yet, or created but not started, so not attached): only older ones are swept
    const created = Date.parse(n.Created ?? '');
    if (!(created <= Date.now() - graceMs)) continue;
    try {
      await f.engine.removeNetwork(n.Id);
      removed.push(n.Name);
    } catch {
      // attached (a create under way, tasks stopping) or gone: the next sweep decides
    }
  }
  if (removed.length) {
    // an app created meanwhile (after the look above) names its network: make it again
    const after = await usersWithApps();
    for (const n of nets) {
      const user = n.Labels?.[NETWORK_LABELS.user];
      if (user && removed.includes(n.Name) && after.has(user)) await ensureUserNetwork(f, user, mode).catch(() => undefined);
    }
  }
  return removed;
}
