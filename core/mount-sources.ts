/**
 * Host directories of the create policy's mounts: a missing source is created, owned by the
 * app's `UID:GID`, when its template says `create: true`; otherwise create-app answers 409
 * `mount_source_missing` naming the path (never a 502).
 *
 * The directory is made on the Engine's own host by a short-lived helper container (the
 * policy's `mountHelperImage`, a busybox): it binds the parent directory (the Engine creates a
 * missing parent, root-owned, as `docker run -v` does), and makes the directory only when it is
 * not there yet, so an existing directory's owner is never changed. The helper runs as root
 * without network, with no capability beyond chown's, and is removed at once.
 *
 * Swarm mode ({@link createMountSourcesOnNodes}): the same helper runs as a global job, one task
 * on every node (a task may land on any of them); the parent directory must exist on the nodes.
 *
 * @module
 */
import { EngineError } from './engine.ts';
import { DomainError } from './errors.ts';
import type { Facility } from './facility.ts';
import type { Resolved } from './policy.ts';

/** Whether an Engine refusal says a bind mount's source does not exist; the path if so. */
export function missingMountSource(e: unknown): string | undefined {
  if (!(e instanceof EngineError)) return undefined;
  return e.engineMessage.match(/bind source path does not exist:\s*(\S+)/)?.[1];
}

/** The 409 for a mount source that does not exist and may not be created. */
export function mountSourceMissing(f: Facility, path: string): DomainError {
  return new DomainError(
    'mount_source_missing',
    `The host directory ${path} that facility '${f.id}' mounts into this app does not exist; an admin should create it (or set create: true on the mount template)`,
    { path },
  );
}

/**
 * The helper's shell script: make `/parent/NAME` owned by `owner` unless it exists. Only the
 * task whose `mkdir` made the directory changes its owner; a `mkdir` that lost a race to another
 * task (swarm nodes sharing one filesystem, e.g. NFS homes) succeeds when the directory is there.
 */
export function helperScript(name: string, owner: string): string {
  return `d=/parent/${name}; [ -e "$d" ] && exit 0; if /bin/busybox mkdir -m 0700 "$d"; then /bin/busybox chown ${owner} "$d" && /bin/busybox chmod 0750 "$d"; else [ -d "$d" ]; fi`;
}

const dirname = (p: string) => p.replace(/\/[^/]+\/?$/, '') || '/';
const basename = (p: string) => p.replace(/\/+$/, '').replace(/^.*\//, '');
const SAFE_NAME = /^[A-Za-z0-9._@+-]+$/;

/**
 * Creates the missing sources of `resolved`'s mounts that allow it (`create`), owned by the
 * app's `UID:GID` (`resolved.user`), on the facility's Engine.
 * @throws DomainError 409 `mount_source_missing` when the helper cannot make one (its image
 *   missing included)
 */
export async function createMountSources(f: Facility, resolved: Resolved): Promise<void> {
  const owner = resolved.user;
  for (const m of resolved.mounts) {
    if (!m.create || !owner) continue;
    const name = basename(m.source);
    if (!SAFE_NAME.test(name) || name === '.' || name === '..') throw mountSourceMissing(f, m.source);
    const script = helperScript(name, owner);
    let id: string | undefined;
    try {
      ({ Id: id } = await f.engine.createContainer('', {
        Image: f.config.policy.mountHelperImage,
        Entrypoint: ['/bin/busybox', 'sh', '-c'],
        Cmd: [script],
        User: '0:0',
        Labels: { 'io.src-container-api.helper': 'mount-source' },
        HostConfig: { Binds: [`${dirname(m.source)}:/parent`], NetworkMode: 'none', CapDrop: ['ALL'], CapAdd: ['CHOWN', 'DAC_OVERRIDE', 'FOWNER'], SecurityOpt: ['no-new-privileges:true'] },
      }));
      await f.engine.startContainer(id);
      const { StatusCode } = await f.engine.waitContainer(id, 60_000);
      if (StatusCode !== 0) throw new Error(`helper exited ${StatusCode}`);
    } catch (e) {
      throw new DomainError(
        'mount_source_missing',
        `Could not create the host directory ${m.source} for facility '${f.id}' (${(e as Error).message}); an admin should create it`,
        { path: m.source },
        { cause: e },
      );
    } finally {
      if (id) await f.engine.removeContainer(id, { force: true }).catch(() => undefined);
    }
  }
}

const TERMINAL = new Set(['complete', 'failed', 'rejected', 'shutdown', 'orphaned', 'remove']);

/**
 * Swarm mode: creates the missing sources of `resolved`'s mounts that allow it on every node,
 * through a global-job service of the helper image (`POST /services/create`, mode `GlobalJob`),
 * waits for its tasks (at most 60 s), then removes it.
 * @throws DomainError 409 `mount_source_missing` naming the path and the nodes where it failed
 */
export async function createMountSourcesOnNodes(f: Facility, resolved: Resolved): Promise<void> {
  const owner = resolved.user;
  for (const m of resolved.mounts) {
    if (!m.create || !owner) continue;
    const name = basename(m.source);
    if (!SAFE_NAME.test(name) || name === '.' || name === '..') throw mountSourceMissing(f, m.source);
    let id: string | undefined;
    try {
      ({ ID: id } = await f.engine.createService({
        Name: `src-mkdir-${crypto.randomUUID().slice(0, 12)}`,
        Labels: { 'io.src-container-api.helper': 'mount-source' },
        TaskTemplate: {
          ContainerSpec: {
            Image: f.config.policy.mountHelperImage,
            Command: ['/bin/busybox', 'sh', '-c'],
            Args: [helperScript(name, owner)],
            User: '0:0',
            Mounts: [{ Type: 'bind', Source: dirname(m.source), Target: '/parent' }],
            Privileges: { NoNewPrivileges: true },
          },
          RestartPolicy: { Condition: 'none' },
        },
        Mode: { GlobalJob: {} },
      }));
      const deadline = Date.now() + 60_000;
      for (;;) {
        const tasks: any[] = await f.engine.listTasks({ filters: { service: [id] } });
        if (tasks.length > 0 && tasks.every((t) => TERMINAL.has(t.Status?.State))) {
          const bad = tasks.filter((t) => t.Status?.State !== 'complete');
          if (bad.length) throw new Error(bad.map((t) => `${t.Status?.State}: ${t.Status?.Err ?? t.Status?.Message ?? ''}`).join('; '));
          break;
        }
        if (Date.now() > deadline) throw new Error('the helper tasks did not finish within 60 s');
        await new Promise((r) => setTimeout(r, 200));
      }
    } catch (e) {
      throw new DomainError(
        'mount_source_missing',
        `Could not create the host directory ${m.source} on the nodes of facility '${f.id}' (${(e as Error).message}); an admin should create it`,
        { path: m.source },
        { cause: e },
      );
    } finally {
      if (id) await f.engine.removeService(id).catch(() => undefined);
    }
  }
}
