/**
 * A real OpenLDAP server for tests: Debian's `slapd` (scripts/ensure-test-deps.sh installs it)
 * with its own config and database in a temporary directory, on a free loopback port, with
 * the nis schema (posixAccount, posixGroup). Tests only.
 *
 * @example
 * const ldap = await startLdap();
 * await ldap.add(posixUser('alice', 5001, 5001));
 * await ldap.stop();
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const LDAP_SUFFIX = 'dc=src-test,dc=example';
export const LDAP_ADMIN = `cn=admin,${LDAP_SUFFIX}`;
export const LDAP_PASSWORD = 'src-test-ldap';

export interface LdapServer {
  url: string;
  dir: string;
  /** Adds entries (LDIF). */
  add(ldif: string): Promise<void>;
  /** Deletes entries by DN. */
  remove(...dns: string[]): Promise<void>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** Starts slapd and loads the base entries (`ou=people`, `ou=groups`). */
export async function startLdap(): Promise<LdapServer> {
  const dir = mkdtempSync(join(tmpdir(), 'src-slapd-'));
  mkdirSync(join(dir, 'db'));
  const port = await freePort();
  const url = `ldap://127.0.0.1:${port}`;
  writeFileSync(
    join(dir, 'slapd.conf'),
    [
      'include /etc/ldap/schema/core.schema',
      'include /etc/ldap/schema/cosine.schema',
      'include /etc/ldap/schema/nis.schema',
      'include /etc/ldap/schema/inetorgperson.schema',
      `pidfile ${dir}/slapd.pid`,
      'modulepath /usr/lib/ldap',
      'moduleload back_mdb',
      'database mdb',
      `suffix "${LDAP_SUFFIX}"`,
      `rootdn "${LDAP_ADMIN}"`,
      `rootpw ${LDAP_PASSWORD}`,
      `directory ${dir}/db`,
      'maxsize 10485760',
      'access to * by * read',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn('/usr/sbin/slapd', ['-f', join(dir, 'slapd.conf'), '-h', `${url}/`, '-d', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr?.on('data', (b) => (err += b));
  const auth = ['-x', '-H', url, '-D', LDAP_ADMIN, '-w', LDAP_PASSWORD];
  const ldapadd = async (ldif: string) => {
    const p = run('ldapadd', auth);
    p.child.stdin?.end(ldif);
    await p;
  };
  for (let i = 0; ; i++) {
    try {
      await run('ldapsearch', ['-x', '-H', url, '-b', '', '-s', 'base', 'namingContexts']);
      break;
    } catch (e) {
      if (i > 100 || child.exitCode !== null) throw new Error(`slapd did not start: ${err || (e as Error).message}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  await ldapadd(
    `dn: ${LDAP_SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\no: src test\ndc: src-test\n\ndn: ou=people,${LDAP_SUFFIX}\nobjectClass: organizationalUnit\nou: people\n\ndn: ou=groups,${LDAP_SUFFIX}\nobjectClass: organizationalUnit\nou: groups\n`,
  );
  return {
    url,
    dir,
    add: ldapadd,
    async remove(...dns) {
      await run('ldapdelete', [...auth, ...dns]);
    },
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** LDIF of a posixAccount `uid=USER,ou=people`. */
export function posixUser(user: string, uid: number, gid: number): string {
  return `dn: uid=${user},ou=people,${LDAP_SUFFIX}\nobjectClass: inetOrgPerson\nobjectClass: posixAccount\ncn: ${user}\nsn: ${user}\nuid: ${user}\nuidNumber: ${uid}\ngidNumber: ${gid}\nhomeDirectory: /home/${user}\n\n`;
}

/** LDIF of a posixGroup `cn=NAME,ou=groups` with `members` as memberUid. */
export function posixGroup(name: string, gid: number, members: string[]): string {
  return `dn: cn=${name},ou=groups,${LDAP_SUFFIX}\nobjectClass: posixGroup\ncn: ${name}\ngidNumber: ${gid}\n${members.map((m) => `memberUid: ${m}\n`).join('')}\n`;
}
