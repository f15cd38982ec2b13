/**
 * Connectors: how the gateway reaches a swarm app. The host has no route into the swarm's
 * overlays, but it reaches the manager's filesystem (as it reaches the Engines' Unix sockets).
 * So for each opened app the API runs, on the facility's manager, one standalone container
 * (not a service) attached to that app's user overlay only:
 *
 *   socat UNIX-LISTEN:/sockets/APP.sock,fork,mode=600,unlink-early TCP:SERVICE:PORT
 *
 * `/sockets` is the facility's `swarm.connector.dir` on the manager's host; the gateway (the
 * runner's, or nginx with authorize-app) connects to `DIR/APP.sock`. socat resolves the service
 * name through the overlay's embedded DNS on each connection (`dnsrr`: the running tasks'
 * addresses), so task restarts and moves are followed.
 *
 * Why apps never reach each other through it: it is on one user's overlay (never two), listens
 * on no network port at all (only the Unix socket outside), forwards to one service name only,
 * and has IP forwarding off. Hardened: non-root (`swarm.connector.user`), all capabilities
 * dropped, no-new-privileges, read-only root, 32 MiB and 128 processes.
 *
 * Lifecycle: made (or repaired: stopped, missing socket, other port or network) lazily by
 * {@link ensureConnector} when an app is opened or a request checks it; removed by
 * {@link removeConnector} with the app's service (kill-app, before the user's overlay is
 * released: an attached container blocks its removal), and by {@link pruneConnectors} (the
 * maintenance sweep) when its app is gone.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { chownSync, chmodSync, lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { EngineError, orNotFound } from '../engine.ts';
import { DomainError } from '../errors.ts';
import type { Facility } from '../facility.ts';
import { LABEL_PREFIX } from '../naming.ts';

/** Labels of a connector container. */
export const CONNECTOR_LABELS = {
  /** `connector` (the helper kind, as mount-source helpers carry `mount-source`). */
  helper: `${LABEL_PREFIX}helper`,
  facility: `${LABEL_PREFIX}connector.facility`,
  app: `${LABEL_PREFIX}connector.app`,
  network: `${LABEL_PREFIX}connector.network`,
  target: `${LABEL_PREFIX}connector.target`,
} as const;

/** How long a new connector may take to listen on its socket (ms). */
export const CONNECTOR_START_MS = 10_000;

/** How young a connector the sweep leaves alone, whatever its app (ms): an open may be making it. */
export const CONNECTOR_PRUNE_GRACE_MS = 60_000;

/**
 * The facility's connector settings: `swarm.connector` as core/config.ts parsed it (its defaults
 * applied there), with `dir` defaulting to `/run/src-container-api/connectors/FACILITY`.
 */
export function connectorSettings(f: Facility): { image: string; dir: string; user: string } {
  const c = f.config.swarm.connector;
  return { image: c.image, dir: c.dir ?? `/run/src-container-api/connectors/${f.id}`, user: c.user };
}

const short = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 16);

/** The connector container's name: `srcconn--FACILITY--app` (lowercase), or a hash past 63 characters. */
export function connectorName(facility: string, app: string): string {
  const plain = `srcconn--${facility}--${app.toLowerCase()}`.replace(/[^a-zA-Z0-9_.-]/g, '_');
  return plain.length <= 63 ? plain : `srcconn--${short(`${facility}\0${app.toLowerCase()}`)}`;
}

/** The socket's file name in the connectors directory: `app.sock` (lowercase), or a hash when the path would be too long. */
export function socketFile(dir: string, app: string): string {
  const plain = `${app.toLowerCase()}.sock`;
  // sun_path holds 108 bytes with its NUL
  return join(dir, plain).length <= 100 && /^[a-z0-9_.-]+$/.test(plain) ? plain : `${short(app.toLowerCase())}.sock`;
}

/** What a connector forwards to: the app's service name and TCP port on the user's overlay. */
export interface ConnectorTarget {
  app: string;
  network: string;
  port: number;
}

const inflight = new Map<string, Promise<string>>();

function isSocket(path: string): boolean {
  try {
    return lstatSync(path).isSocket();
  } catch {
    return false;
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // gone already, or not ours to remove: socat's unlink-early replaces it
  }
}

/**
 * Makes the connectors directory: owned by the connector's user, mode 0700. Parents it has to
 * make (as for the default `/run/src-container-api/connectors/FACILITY`) get mode 0755, whatever
 * the umask: a gateway running as the sockets' owner but not as root (nginx's `nobody` workers)
 * must get through them to the socket. Parents that exist are left as they are.
 * @throws DomainError `app_unreachable` when it cannot make them (but not when a directory that
 *   exists is another owner's: the socket wait tells whether it works)
 */
function ensureDir(dir: string, user: string): void {
  const [uid, gid] = user.split(':').map(Number);
  try {
    const parent = dirname(dir);
    const first = mkdirSync(parent, { recursive: true, mode: 0o755 }); // the first directory it made, if any
    if (first) for (let p = parent; p.length >= first.length; p = dirname(p)) chmodSync(p, 0o755);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (process.getuid?.() === 0) chownSync(dir, uid, gid);
    chmodSync(dir, 0o700);
  } catch (e) {
    // not ours to change (another owner made it as it should be): the socket wait tells
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') {
      throw new DomainError('app_unreachable', `The gateway cannot prepare its connectors directory ${dir}: ${(e as Error).message}`, {}, { cause: e });
    }
  }
}

/**
 * Makes sure app `t.app`'s connector runs on the facility's Engine (the manager), forwarding to
 * `t.app:t.port` on overlay `t.network`, and answers the host path of its Unix socket. A
 * connector that is stopped, has lost its socket, or forwards elsewhere is replaced; a missing
 * one is created (`POST /containers/create`, `POST /containers/{id}/start`), then this waits
 * for its socket (at most {@link CONNECTOR_START_MS}). Concurrent calls in one process share one
 * attempt; another process's concurrent create (409) is waited for.
 * @returns the socket's path on the host, e.g. `/run/src-container-api/connectors/lab/httpd--alice.sock`
 * @throws DomainError `app_unreachable` (no connector image on the manager, a directory the
 *   connector cannot write, no socket in time); Engine errors
 */
export function ensureConnector(f: Facility, t: ConnectorTarget): Promise<string> {
  const key = `${f.id}\0${t.app.toLowerCase()}`;
  const running = inflight.get(key);
  if (running) return running;
  const p = ensureOnce(f, t).finally(() => inflight.delete(key));
  inflight.set(key, p);
  return p;
}

async function ensureOnce(f: Facility, t: ConnectorTarget): Promise<string> {
  const s = connectorSettings(f);
  const name = connectorName(f.id, t.app);
  const file = socketFile(s.dir, t.app);
  const sock = join(s.dir, file);
  const target = `${t.app}:${t.port}`;
  const c = await orNotFound(f.engine.inspectContainer(name));
  const labels = (c?.Config?.Labels ?? {}) as Record<string, string>;
  if (c?.State?.Running && labels[CONNECTOR_LABELS.target] === target && labels[CONNECTOR_LABELS.network] === t.network && isSocket(sock)) return sock;
  if (c) await f.engine.removeContainer(c.Id, { force: true }).catch((e) => (e instanceof EngineError && e.statusCode === 404 ? undefined : Promise.reject(e)));
  unlinkQuietly(sock);
  ensureDir(s.dir, s.user);
  const body = {
    Image: s.image,
    Cmd: [`UNIX-LISTEN:/sockets/${file},fork,mode=600,unlink-early`, `TCP:${t.app}:${t.port}`],
    User: s.user,
    Labels: { [CONNECTOR_LABELS.helper]: 'connector', [CONNECTOR_LABELS.facility]: f.id, [CONNECTOR_LABELS.app]: t.app, [CONNECTOR_LABELS.network]: t.network, [CONNECTOR_LABELS.target]: target },
    HostConfig: {
      NetworkMode: t.network,
      Binds: [`${s.dir}:/sockets`],
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      ReadonlyRootfs: true,
      Sysctls: { 'net.ipv4.ip_forward': '0' },
      Memory: 32 << 20,
      MemorySwap: 32 << 20,
      PidsLimit: 128,
      RestartPolicy: { Name: 'unless-stopped' },
      LogConfig: { Type: 'json-file', Config: { 'max-size': '1m', 'max-file': '1' } },
    },
    NetworkingConfig: { EndpointsConfig: { [t.network]: {} } },
  };
  let id: string | undefined;
  try {
    id = (await f.engine.createContainer(name, body)).Id;
  } catch (e) {
    if (e instanceof EngineError && e.statusCode === 404) {
      throw new DomainError(
        'app_unreachable',
        `The gateway's connector image '${s.image}' is not on facility '${f.id}''s manager (scripts/build-connector-image.sh, or swarm.connector.image)`,
        { image: s.image },
        { cause: e },
      );
    }
    if (!(e instanceof EngineError && e.statusCode === 409)) throw e; // another process is making it: wait for its socket
  }
  if (id) await f.engine.startContainer(id);
  const deadline = Date.now() + CONNECTOR_START_MS;
  while (!isSocket(sock)) {
    if (Date.now() > deadline) {
      const now = await orNotFound(f.engine.inspectContainer(name));
      throw new DomainError(
        'app_unreachable',
        `The gateway's connector for ${t.app} made no socket at ${sock} (container ${now?.State?.Status ?? 'gone'}${now?.State?.Error ? `: ${now.State.Error}` : ''}); swarm.connector.dir must be on the manager's host, writable by swarm.connector.user`,
        { name: t.app },
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return sock;
}

/**
 * Removes app `app`'s connector (`DELETE /containers/{name}?force=1`) and its socket file; a
 * connector that is not there is fine. Never throws for a missing one.
 */
export async function removeConnector(f: Facility, app: string): Promise<void> {
  const s = connectorSettings(f);
  try {
    await f.engine.removeContainer(connectorName(f.id, app), { force: true });
  } catch (e) {
    if (!(e instanceof EngineError && e.statusCode === 404)) throw e;
  }
  unlinkQuietly(join(s.dir, socketFile(s.dir, app)));
}

/**
 * Removes the facility's connectors whose app is gone (`appsAlive()`: the lowercase names of
 * the facility's apps), except those younger than `graceMs`.
 * @returns the apps whose connectors were removed
 */
export async function pruneConnectors(f: Facility, appsAlive: () => Promise<Set<string>>, graceMs = CONNECTOR_PRUNE_GRACE_MS): Promise<string[]> {
  const list = await f.engine.listContainers({ all: true, filters: { label: [`${CONNECTOR_LABELS.helper}=connector`, `${CONNECTOR_LABELS.facility}=${f.id}`] } });
  if (list.length === 0) return [];
  const alive = await appsAlive();
  const removed: string[] = [];
  for (const c of list) {
    const app = c.Labels?.[CONNECTOR_LABELS.app];
    if (!app || alive.has(app.toLowerCase()) || c.Created * 1000 > Date.now() - graceMs) continue;
    try {
      await removeConnector(f, app);
      removed.push(app);
    } catch {
      // the Engine is away: the next sweep
    }
  }
  return removed;
}
