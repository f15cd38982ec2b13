/**
 * Identity from a real OpenLDAP directory (slapd started by this file on a loopback port):
 * an app runs as the posixAccount's uidNumber:gidNumber with its posixGroup memberships as
 * supplementary groups; a user the directory does not know is refused (403 `no_identity`) or
 * gets the unprivileged fallback, as the facility says; lookups are cached for the TTL; a user
 * removed from the directory is refused even with a live token; UID 0 only for rootImages.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, deleteApp } from '../core/apps.ts';
import { parseConfig } from '../core/config.ts';
import { Engine } from '../core/engine.ts';
import type { Facility } from '../core/facility.ts';
import { authorizeAccess } from '../core/identity.ts';
import { parseImageReference } from '../core/reference.ts';
import { runAsFor } from '../core/run-as.ts';
import { clearIdentityCache, lookupIdentity } from '../core/user-identity.ts';
import { engine, IMAGES, removeUserApps, uniqueUser } from './helpers.ts';
import { LDAP_SUFFIX, type LdapServer, posixGroup, posixUser, startLdap } from './ldap-server.ts';

const alice = uniqueUser('la');
const bob = uniqueUser('lb');
const ghost = uniqueUser('lg');
const rooty = uniqueUser('lr');
let ldap: LdapServer;

/** A facility on the local Engine whose identities come from the test directory. */
function facility(identity: Record<string, unknown>, id = 'ldaptest'): Facility {
  const cfg = parseConfig(
    {
      facilities: {
        [id]: {
          mode: 'solo',
          engine: { host: process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock' },
          policy: {
            identity: {
              ldap: { url: ldap.url, userBase: `ou=people,${LDAP_SUFFIX}`, groupBase: `ou=groups,${LDAP_SUFFIX}` },
              ...identity,
            },
          },
        },
      },
    },
    'test',
  );
  return { id, config: cfg.facilities[id], engine: new Engine(cfg.facilities[id].engine) };
}

beforeAll(async () => {
  ldap = await startLdap();
  await ldap.add(posixUser(alice, 52001, 52001) + posixUser(bob, 52002, 52002) + posixUser(rooty, 0, 0));
  await ldap.add(posixGroup(`${alice}-lab`, 53001, [alice, bob]) + posixGroup(`${alice}-gpu`, 53002, [alice]));
}, 60_000);

afterAll(async () => {
  await removeUserApps(alice, bob, ghost, rooty);
  await ldap?.stop();
});

describe('identity from LDAP (posixAccount / posixGroup)', () => {
  it('looks up uidNumber, gidNumber and the posixGroup memberships', async () => {
    const f = facility({ cacheSeconds: 0 });
    expect(await lookupIdentity({ id: f.id, policy: f.config.policy }, alice)).toEqual({ uid: 52001, gid: 52001, groups: [53001, 53002], source: 'ldap' });
    expect(await lookupIdentity({ id: f.id, policy: f.config.policy }, bob)).toEqual({ uid: 52002, gid: 52002, groups: [53001], source: 'ldap' });
    expect(await lookupIdentity({ id: f.id, policy: f.config.policy }, ghost)).toBeNull();
    // a filter-injection attempt finds nobody
    expect(await lookupIdentity({ id: f.id, policy: f.config.policy }, '*')).toBeNull();
  });

  it('an app runs as the user: UID:GID and supplementary groups on the container, and the process inside has them', async () => {
    const f = facility({ cacheSeconds: 0 });
    const r = await createApp(f, parseImageReference(IMAGES.busybox), alice);
    const c = await engine.inspectContainer(r.id);
    expect(c.Config.User).toBe('52001:52001');
    expect(c.HostConfig.GroupAdd).toEqual(['53001', '53002']);
    expect(c.HostConfig.NetworkMode).toBe(`srcnet--ldaptest--${alice}`);
    const run = await engine.call<{ Id: string }>({
      method: 'POST',
      path: '/containers/create',
      body: { Image: IMAGES.busybox, Cmd: ['cat', '/proc/self/status'], User: c.Config.User, HostConfig: { GroupAdd: c.HostConfig.GroupAdd, AutoRemove: false } },
      statusCodes: { 201: true },
    });
    try {
      await engine.startContainer(run.Id);
      await engine.waitContainer(run.Id);
      const logs = await engine.call<any>({ method: 'GET', path: `/containers/${run.Id}/logs`, query: { stdout: true }, statusCodes: { 200: true } });
      const status = String(logs);
      expect(status).toMatch(/Uid:\s+52001\s/);
      expect(status).toMatch(/Gid:\s+52001\s/);
      expect(status).toMatch(/Groups:.*53001.*53002/);
    } finally {
      await engine.removeContainer(run.Id, { force: true });
    }
    await deleteApp(f, r.name);
  });

  it('a user the directory does not know: 403 no_identity when the facility refuses, else the fallback UID without host mounts', async () => {
    const refuse = facility({ missing: 'refuse', cacheSeconds: 0 });
    await expect(createApp(refuse, parseImageReference(IMAGES.busybox), ghost)).rejects.toMatchObject({ code: 'no_identity', detail: expect.stringContaining(ghost) });
    const fallback = facility({ missing: 'fallback', fallback: '61000:61000', cacheSeconds: 0 });
    const r = await createApp(fallback, parseImageReference(IMAGES.busybox), ghost);
    const c = await engine.inspectContainer(r.id);
    expect(c.Config.User).toBe('61000:61000');
    expect(c.HostConfig.Mounts ?? []).toEqual([]);
    await deleteApp(fallback, r.name);
  });

  it('UID 0 in the directory is refused unless the policy lists the image in rootImages (then: the image user, no host mounts)', async () => {
    const f = facility({ cacheSeconds: 0 });
    await expect(runAsFor(f, rooty, parseImageReference(IMAGES.busybox))).rejects.toMatchObject({ code: 'no_identity', detail: expect.stringMatching(/UID 0/) });
    const allowed = facility({ cacheSeconds: 0, rootImages: ['docker.io/src-test/busybox'] });
    expect(await runAsFor(allowed, rooty, parseImageReference(IMAGES.busybox))).toEqual({ groups: [], hostMounts: false });
    await expect(runAsFor(allowed, rooty, parseImageReference(IMAGES.httpd))).rejects.toMatchObject({ code: 'no_identity' });
    // GID 0 (the root group) is refused too, and never a supplementary group
    const rootGroup = facility({ cacheSeconds: 0 });
    rootGroup.config.policy.userMap = { [ghost]: '52100:0' };
    await expect(runAsFor(rootGroup, ghost, parseImageReference(IMAGES.busybox))).rejects.toMatchObject({ code: 'no_identity', detail: expect.stringMatching(/GID 0/) });
  });

  it('lookups are cached for cacheSeconds; a user removed from the directory is refused, even with a live token', async () => {
    const cached = facility({ missing: 'refuse', cacheSeconds: 3600 }, 'ldapcache');
    const fresh = facility({ missing: 'refuse', cacheSeconds: 0 }, 'ldapfresh');
    const token = { subject: 't', name: 'bob token', role: 'user' as const, scopeUser: bob };
    await authorizeAccess(token, 'get-app-names', 'user', cached);
    await authorizeAccess(token, 'get-app-names', 'user', fresh);
    await ldap.remove(`uid=${bob},ou=people,${LDAP_SUFFIX}`);
    // the cached facility still knows bob until its TTL ends; the uncached one refuses at once
    await authorizeAccess(token, 'get-app-names', 'user', cached);
    await expect(authorizeAccess(token, 'get-app-names', 'user', fresh)).rejects.toMatchObject({ code: 'no_identity' });
    clearIdentityCache(); // what the TTL's end does
    await expect(authorizeAccess(token, 'get-app-names', 'user', cached)).rejects.toMatchObject({ code: 'no_identity' });
    await expect(createApp(fresh, parseImageReference(IMAGES.busybox), bob)).rejects.toMatchObject({ code: 'no_identity' });
  });

  it('a directory that cannot be reached is a 503, never a fallback user', async () => {
    const f = facility({ cacheSeconds: 0 });
    f.config.policy.identity.ldap!.url = 'ldap://127.0.0.1:9';
    await expect(lookupIdentity({ id: f.id, policy: f.config.policy }, alice)).rejects.toMatchObject({ code: 'store_unavailable' });
  });
});
