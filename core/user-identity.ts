/**
 * Users' POSIX identities: the UID, GID and supplementary groups an app of a user runs as.
 *
 * Sources, asked in order, per facility (`policy` in the facility config): the static
 * `userMap` (`"alice": "1001:1001"`), a passwd/group file pair (`identity.files`), and an LDAP
 * directory with posixAccount users and posixGroup groups (`identity.ldap`, through `ldapts`).
 * The first source that knows the user answers. Answers (and "unknown") are cached for
 * `identity.cacheSeconds` per facility and user; a directory that cannot be reached is an error
 * (503), never "unknown": a flaky directory must not turn users into fallback users.
 *
 * @example
 * await lookupIdentity(f, 'alice') // { uid: 1001, gid: 1001, groups: [1001, 2000], source: 'ldap' } or null
 *
 * @module
 */
import { Client } from 'ldapts';
import type { FacilityConfig } from './config.ts';
import { DomainError } from './errors.ts';
import { env, readTextFile } from './runtime.ts';

/** A user's POSIX identity. */
export interface PosixIdentity {
  uid: number;
  gid: number;
  /** Supplementary group IDs (without `gid`), ascending. */
  groups: number[];
  /** Which source answered: `userMap`, `files` or `ldap`. */
  source: 'userMap' | 'files' | 'ldap';
}

const cache = new Map<string, { at: number; value: PosixIdentity | null }>();

/** Forgets cached lookups (tests; an admin's change that must apply at once). */
export function clearIdentityCache(): void {
  cache.clear();
}

/**
 * The POSIX identity of `user` in facility `f`, or `null` when no source knows the user.
 * @throws DomainError `engine_unavailable`-like `store_unavailable` (503) when the directory cannot be asked
 */
export async function lookupIdentity(f: Pick<FacilityConfig, 'id' | 'policy'>, user: string): Promise<PosixIdentity | null> {
  const ttl = f.policy.identity.cacheSeconds * 1000;
  const key = `${f.id}\u0000${user}`;
  const hit = cache.get(key);
  if (hit && Date.now() - hit.at < ttl) return hit.value;
  const value = await lookupUncached(f, user);
  if (ttl > 0) cache.set(key, { at: Date.now(), value });
  return value;
}

async function lookupUncached(f: Pick<FacilityConfig, 'id' | 'policy'>, user: string): Promise<PosixIdentity | null> {
  const { userMap, identity } = f.policy;
  if (Object.hasOwn(userMap, user)) {
    const [uid, gid] = userMap[user].split(':').map(Number);
    return { uid, gid: gid ?? uid, groups: [], source: 'userMap' };
  }
  if (identity.files) {
    const found = fromFiles(identity.files.passwd, identity.files.group, user);
    if (found) return found;
  }
  if (identity.ldap) {
    try {
      return await fromLdap(identity.ldap, user);
    } catch (e) {
      throw new DomainError(
        'store_unavailable',
        `The identity directory ${identity.ldap.url} of facility '${f.id}' cannot be asked (${(e as Error).message}); retry later`,
        { retryAfter: 5 },
        { cause: e },
      );
    }
  }
  return null;
}

/**
 * Looks `user` up in a passwd(5) file and its groups in a group(5) file (re-read on every
 * uncached lookup, so edits apply after the cache TTL).
 */
export function fromFiles(passwdPath: string, groupPath: string | undefined, user: string): PosixIdentity | null {
  const passwd = readTextFile(passwdPath);
  if (passwd === undefined) throw new DomainError('store_unavailable', `The passwd file ${passwdPath} does not exist`, { retryAfter: 5 });
  let entry: string[] | undefined;
  for (const line of passwd.split('\n')) {
    const p = line.split(':');
    if (p[0] === user && p.length >= 4) entry = p;
  }
  if (!entry) return null;
  const uid = Number(entry[2]);
  const gid = Number(entry[3]);
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) return null;
  const groups = new Set<number>();
  const text = groupPath ? readTextFile(groupPath) : undefined;
  for (const line of (text ?? '').split('\n')) {
    const g = line.split(':');
    if (g.length >= 4 && g[3].split(',').includes(user) && /^\d+$/.test(g[2])) groups.add(Number(g[2]));
  }
  groups.delete(gid);
  return { uid, gid, groups: [...groups].sort((a, b) => a - b), source: 'files' };
}

type LdapSettings = NonNullable<FacilityConfig['policy']['identity']['ldap']>;

/** RFC 4515 escaping of a value inside a search filter. */
export function ldapEscape(value: string): string {
  return value.replace(/[\\*()\u0000]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Looks `user` up as a posixAccount (`uidNumber`, `gidNumber`) and its posixGroup memberships (`memberUid`). */
async function fromLdap(s: LdapSettings, user: string): Promise<PosixIdentity | null> {
  const client = new Client({ url: s.url, timeout: s.timeoutMs, connectTimeout: s.timeoutMs });
  try {
    if (s.bindDn) await client.bind(s.bindDn, s.bindPasswordEnv ? (env(s.bindPasswordEnv) ?? '') : '');
    const who = ldapEscape(user);
    const { searchEntries } = await client.search(s.userBase, {
      scope: 'sub',
      filter: `(&(objectClass=posixAccount)(${s.userAttribute}=${who}))`,
      attributes: ['uidNumber', 'gidNumber'],
      sizeLimit: 2,
    });
    if (searchEntries.length !== 1) return null;
    const uid = Number(searchEntries[0].uidNumber);
    const gid = Number(searchEntries[0].gidNumber);
    if (!Number.isInteger(uid) || !Number.isInteger(gid)) return null;
    const groups = new Set<number>();
    if (s.groupBase) {
      const g = await client.search(s.groupBase, { scope: 'sub', filter: `(&(objectClass=posixGroup)(memberUid=${who}))`, attributes: ['gidNumber'] });
      for (const e of g.searchEntries) if (/^\d+$/.test(String(e.gidNumber))) groups.add(Number(e.gidNumber));
    }
    groups.delete(gid);
    return { uid, gid, groups: [...groups].sort((a, b) => a - b), source: 'ldap' };
  } finally {
    await client.unbind().catch(() => undefined);
  }
}
