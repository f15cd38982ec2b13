/**
 * Where the dashboard's site sign-in plugs in: a facility's directory checks a user's password
 * and says whether the user is still there. A facility whose identity sources include LDAP
 * (`policy.identity.ldap`, core/user-identity.ts) has one: the password is checked by an LDAP
 * simple bind as the user's own DN (found by the configured search), and "still there" is the
 * facility's identity lookup (cached for `identity.cacheSeconds`), so a user removed from the
 * directory loses the dashboard when they lose their apps' identity. A facility without a
 * directory offers token sign-in only. {@link setDirectory} registers another (a site's own).
 *
 * @example
 * const d = directoryOf('demo'); // undefined without identity.ldap
 * await d?.verify('alice', password); // true / false
 *
 * @module
 */
import { Client, InvalidCredentialsError } from 'ldapts';
import { loadConfig, type FacilityConfig } from '../config.ts';
import { env } from '../runtime.ts';
import { ldapEscape, lookupIdentity } from '../user-identity.ts';

/** A facility's user directory as the dashboard needs it. */
export interface Directory {
  /** Whether `password` is `user`'s. False for a wrong or empty password; throws when the directory cannot be asked. */
  verify(user: string, password: string): Promise<boolean>;
  /** Whether `user` is (still) known. */
  knows(user: string): Promise<boolean>;
}

type LdapSettings = NonNullable<FacilityConfig['policy']['identity']['ldap']>;

/** The directory of an LDAP server: a search for the user's DN (as the service bind, or anonymous), then a bind as that DN. */
export function ldapDirectory(f: FacilityConfig & { id: string }, s: LdapSettings): Directory {
  return {
    async verify(user, password) {
      if (!password) return false; // an empty password is an unauthenticated bind: never a sign-in
      const client = new Client({ url: s.url, timeout: s.timeoutMs, connectTimeout: s.timeoutMs });
      try {
        if (s.bindDn) await client.bind(s.bindDn, s.bindPasswordEnv ? (env(s.bindPasswordEnv) ?? '') : '');
        const { searchEntries } = await client.search(s.userBase, {
          scope: 'sub',
          filter: `(&(objectClass=posixAccount)(${s.userAttribute}=${ldapEscape(user)}))`,
          attributes: ['dn'],
          sizeLimit: 2,
        });
        if (searchEntries.length !== 1) return false;
        await client.unbind().catch(() => undefined);
        const asUser = new Client({ url: s.url, timeout: s.timeoutMs, connectTimeout: s.timeoutMs });
        try {
          await asUser.bind(searchEntries[0].dn, password);
          return true;
        } catch (e) {
          if (e instanceof InvalidCredentialsError) return false;
          throw e;
        } finally {
          await asUser.unbind().catch(() => undefined);
        }
      } finally {
        await client.unbind().catch(() => undefined);
      }
    },
    knows: async (user) => (await lookupIdentity(f, user)) !== null,
  };
}

const registered = new Map<string, Directory>();

/** Registers (or, with `undefined`, removes) a directory for facility `id`, in place of its LDAP one. */
export function setDirectory(id: string, d: Directory | undefined): void {
  if (d) registered.set(id, d);
  else registered.delete(id);
}

/** The directory of facility `id`: a registered one, else its LDAP identity source, else none. */
export function directoryOf(id: string): Directory | undefined {
  const own = registered.get(id);
  if (own) return own;
  const cfg = loadConfig().facilities;
  const f = Object.hasOwn(cfg, id) ? cfg[id] : undefined;
  const ldap = f?.policy.identity.ldap;
  return f && ldap ? ldapDirectory({ ...f, id }, ldap) : undefined;
}

/** The facilities among `ids` that have a directory. */
export function directoryFacilities(ids: string[]): string[] {
  return ids.filter((id) => directoryOf(id) !== undefined);
}
