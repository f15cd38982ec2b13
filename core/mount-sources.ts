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
    const script = `d=/parent/${name}; [ -e "$d" ] && exit 0; /bin/busybox mkdir "$d" && /bin/busybox chown ${owner} "$d" && /bin/busybox chmod 0750 "$d"`;
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
