/**
 * Who an app runs as: never root on user data.
 *
 * - A user with an identity (core/user-identity.ts) runs as their `UID:GID` with their
 *   supplementary groups, and gets the policy's host mounts.
 * - A user without one: the facility decides (`policy.identity.missing`): `refuse` answers 403
 *   `no_identity`; `fallback` runs the app as the unprivileged `policy.identity.fallback` UID:GID
 *   without any host mount.
 * - UID 0 only for images the policy lists in `identity.rootImages`: those run as the image's
 *   own user and never get host mounts. A user whose identity says UID or GID 0 is refused
 *   otherwise, and group 0 is never added as a supplementary group.
 *
 * @module
 */
import type { Facility } from './facility.ts';
import { DomainError } from './errors.ts';
import type { RunAs } from './policy.ts';
import { imagePatternMatches, type ImageReference } from './reference.ts';
import { lookupIdentity } from './user-identity.ts';

/**
 * Who `user`'s app of image `ref` runs as in facility `f`.
 * @throws DomainError 403 `no_identity` (no identity and the facility refuses such users; an
 *   identity with UID 0 for an image not in `rootImages`); 503 when the directory cannot be asked
 */
export async function runAsFor(f: Pick<Facility, 'id' | 'config'>, user: string, ref?: ImageReference): Promise<RunAs> {
  const { identity } = f.config.policy;
  if (ref && identity.rootImages.some((p) => imagePatternMatches(p, ref))) return { groups: [], hostMounts: false };
  const who = await lookupIdentity({ id: f.id, policy: f.config.policy }, user);
  if (who) {
    if (who.uid === 0 || who.gid === 0) {
      throw new DomainError(
        'no_identity',
        `User '${user}' has ${who.uid === 0 ? 'UID' : 'GID'} 0 in ${who.source}; apps never run as root unless facility '${f.id}' lists the image in policy.identity.rootImages`,
        { user },
      );
    }
    // never the root group as a supplementary group either
    return { user: `${who.uid}:${who.gid}`, groups: who.groups.filter((g) => g !== 0).map(String), hostMounts: true };
  }
  if (identity.missing === 'refuse') throw noIdentity(f.id, user);
  return { user: identity.fallback, groups: [], hostMounts: false };
}

/** The 403 for a user no identity source of the facility knows. */
export function noIdentity(facility: string, user: string): DomainError {
  return new DomainError('no_identity', `User '${user}' has no UID/GID in facility '${facility}' (not in its user map, passwd file or directory); this facility runs no app of a user without one`, {
    user,
  });
}

/**
 * Refuses a user whose identity is gone from the directory, even with a live token: in a
 * facility that refuses users without identity, every call scoped to such a user answers 403.
 * @throws DomainError 403 `no_identity`
 */
export async function assertUserKnown(f: Pick<Facility, 'id' | 'config'>, user: string): Promise<void> {
  if (f.config.policy.identity.missing !== 'refuse') return;
  if (!(await lookupIdentity({ id: f.id, policy: f.config.policy }, user))) throw noIdentity(f.id, user);
}
