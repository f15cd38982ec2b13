/** Deno permissions of a bundle include the facility's identity sources (passwd/group files, LDAP server, bind password variable). */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { denoPermissionFlags } from '../../scripts/deno-flags.ts';

const dir = mkdtempSync(join(tmpdir(), 'src-denoflags-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('deno flags for identity sources', () => {
  it('reads the passwd/group files, reaches the LDAP server, reads the bind password variable', () => {
    const configPath = join(dir, 'facilities.json');
    const identity = {
      files: { passwd: '/etc/src/passwd', group: '/etc/src/group' },
      ldap: { url: 'ldap://ldap.example.org', userBase: 'ou=people,dc=example', bindDn: 'cn=reader,dc=example', bindPasswordEnv: 'LDAP_READER_PASSWORD' },
    };
    writeFileSync(configPath, JSON.stringify({ facilities: { demo: { engine: { host: 'unix:///var/run/docker.sock' }, mode: 'solo', policy: { identity } } } }));
    const flags = denoPermissionFlags({ env: ['DOCKER_HOST'], configPath, dbUrl: 'http://127.0.0.1:8081' });
    const flag = (name: string) =>
      flags
        .find((f) => f.startsWith(`--allow-${name}=`))!
        .split('=')[1]
        .split(',');
    expect(flag('read')).toEqual(expect.arrayContaining(['/etc/src/passwd', '/etc/src/group']));
    expect(flag('net')).toContain('ldap.example.org:389');
    expect(flag('env')).toContain('LDAP_READER_PASSWORD');
  });
});
