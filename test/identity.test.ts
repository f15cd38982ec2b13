/**
 * Identity through the API (facility `ident` in test/fixtures/config.json: a passwd/group file
 * pair, users without identity refused, no cache) and the policy's host mounts:
 * - an app runs as the user's UID:GID with their supplementary groups, never as root;
 * - a user without identity: 403 `no_identity`, also for a live token once the user is gone;
 * - a mount source that does not exist is created owned by the user (`create: true`), else
 *   409 `mount_source_missing` naming the path (it was a 502 `engine_error`).
 * The fallback identity (no host mounts) is tested in test/policy.test.ts and
 * test/identity-ldap.test.ts.
 */
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../core/auth.ts';
import { call, engine, IMAGES, removeUserApps, uniqueUser } from './helpers.ts';

const base = '/tmp/src-identity-test';
const alice = uniqueUser('ia');
const bob = uniqueUser('ib');
const ghost = uniqueUser('ig');
let aliceToken: string;

function writeDirectory(users: string[]): void {
  const entries = { [alice]: 54001, [bob]: 54002 } as Record<string, number>;
  writeFileSync(`${base}/passwd`, ['root:x:0:0:root:/root:/bin/sh', ...users.map((u) => `${u}:x:${entries[u]}:${entries[u]}::/home/${u}:/bin/sh`)].join('\n') + '\n');
  writeFileSync(`${base}/group`, `lab:x:55001:${users.join(',')}\nother:x:55002:nobody\n`);
}

beforeAll(async () => {
  mkdirSync(`${base}/projects/${alice}`, { recursive: true });
  writeDirectory([alice, bob]);
  aliceToken = (await mintToken({ role: 'user', user: alice, name: 'identity test' })).token;
});

afterAll(async () => {
  await removeUserApps(alice, bob, ghost, 'identroot');
  rmSync(base, { recursive: true, force: true });
});

describe('identity from a passwd/group file', () => {
  it("an app runs as the user's UID:GID with supplementary groups; the missing home directory is created, owned by the user", async () => {
    rmSync(`${base}/home/${alice}`, { recursive: true, force: true });
    const r = await call('POST', `/ident/create-app?image=${IMAGES.busybox}&user=${alice}`, { token: aliceToken });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    const c = await engine.inspectContainer(r.body.id);
    expect(c.Config.User).toBe('54001:54001');
    expect(c.HostConfig.GroupAdd).toEqual(['55001']);
    expect(c.HostConfig.Mounts.map((m: any) => m.Source)).toEqual([`${base}/home/${alice}`, `${base}/projects/${alice}`]);
    const st = statSync(`${base}/home/${alice}`);
    expect([st.uid, st.gid, st.mode & 0o777]).toEqual([54001, 54001, 0o750]);
  });

  it('an existing mount source keeps its owner', async () => {
    mkdirSync(`${base}/home/${bob}`, { recursive: true });
    mkdirSync(`${base}/projects/${bob}`, { recursive: true });
    const before = statSync(`${base}/home/${bob}`);
    const r = await call('POST', `/ident/create-app?image=${IMAGES.busybox}&user=${bob}`);
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(statSync(`${base}/home/${bob}`).uid).toBe(before.uid);
  });

  it('a mount source that does not exist and may not be created: 409 mount_source_missing naming the path, not 502', async () => {
    rmSync(`${base}/projects/${bob}`, { recursive: true, force: true });
    const r = await call('POST', `/ident/create-app?image=${IMAGES.httpd}&user=${bob}`);
    expect(r.status).toBe(409);
    expect(r.body.code).toBe('mount_source_missing');
    expect(r.body.path).toBe(`${base}/projects/${bob}`);
    expect(r.body.detail).toContain(`${base}/projects/${bob}`);
  });

  it('a user without identity: 403 no_identity naming the user; UID 0 from the user map: 403 too', async () => {
    const r = await call('POST', `/ident/create-app?image=${IMAGES.busybox}&user=${ghost}`);
    expect(r.status).toBe(403);
    expect(r.body.code).toBe('no_identity');
    expect(r.body.detail).toContain(ghost);
    const root = await call('POST', `/ident/create-app?image=${IMAGES.busybox}&user=identroot`);
    expect(root.status).toBe(403);
    expect(root.body.detail).toMatch(/UID 0/);
  });

  it('a user removed from the directory is refused with a live token (403), and works again when back', async () => {
    expect((await call('GET', `/ident/get-app-names?user=${alice}`, { token: aliceToken })).status).toBe(200);
    writeDirectory([bob]);
    try {
      const r = await call('GET', `/ident/get-app-names?user=${alice}`, { token: aliceToken });
      expect(r.status).toBe(403);
      expect(r.body.code).toBe('no_identity');
      // the same token in a facility that gives users without identity the fallback still works
      expect((await call('GET', `/demo/get-app-names?user=${alice}`, { token: aliceToken })).status).toBe(200);
    } finally {
      writeDirectory([alice, bob]);
    }
    expect((await call('GET', `/ident/get-app-names?user=${alice}`, { token: aliceToken })).status).toBe(200);
  });
});
