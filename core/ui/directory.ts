/**
 * Where the dashboard's site sign-in plugs in: a facility's directory checks a user's password
 * (an LDAP bind as the user) and says whether the user is still in it. A facility without a
 * directory offers token sign-in only.
 *
 * The LDAP implementation comes with the identity source of issue 12 (core/user-identity.ts,
 * `identity.ldap`); until then {@link setDirectory} registers one (tests, or a site's own).
 *
 * @module
 */

/** A facility's user directory as the dashboard needs it. */
export interface Directory {
  /** Whether `password` is `user`'s (e.g. an LDAP simple bind as the user's DN). Never throws for a wrong password. */
  verify(user: string, password: string): Promise<boolean>;
  /** Whether `user` is (still) in the directory. */
  knows(user: string): Promise<boolean>;
}

const registered = new Map<string, Directory>();

/** Registers (or, with `undefined`, removes) the directory of facility `id`. */
export function setDirectory(id: string, d: Directory | undefined): void {
  if (d) registered.set(id, d);
  else registered.delete(id);
}

/** The directory of facility `id`, if it has one. */
export function directoryOf(id: string): Directory | undefined {
  return registered.get(id);
}

/** The facilities among `ids` that have a directory. */
export function directoryFacilities(ids: string[]): string[] {
  return ids.filter((id) => directoryOf(id) !== undefined);
}
