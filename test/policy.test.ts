import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { call, engine, IMAGES, removeUserApps } from './helpers.ts';

// Facility `strict` in test/fixtures/config.json carries the create policy under test.
const user = 'policyuser';
const other = `tpol${Math.random().toString(36).slice(2, 8)}`;
const base = '/tmp/src-policy-test';

beforeAll(async () => {
  await removeUserApps(user); // the user name is fixed (the config's UID:GID map names it): clear what a killed run left
  for (const u of [user, other]) mkdirSync(`${base}/home/${u}`, { recursive: true });
  mkdirSync(`${base}/scratch`, { recursive: true });
  writeFileSync(`${base}/home/${user}/notes.txt`, 'mine\n');
});
afterAll(async () => {
  await removeUserApps(user, other);
  rmSync(base, { recursive: true, force: true });
});

describe('create policy', () => {
  it('applies default limits, restart policy, mounts, UID:GID and the fixed safety settings', async () => {
    const r = await call('POST', `/strict/create-app?image=${IMAGES.busybox}&user=${user}`);
    expect(r.status).toBe(201);
    const c = await engine.inspectContainer(r.body.id);
    const h = c.HostConfig;
    expect(h.Memory).toBe(64 * 1024 * 1024);
    expect(h.NanoCpus).toBe(0.5e9);
    expect(h.PidsLimit).toBe(100);
    expect(h.RestartPolicy).toEqual({ Name: 'on-failure', MaximumRetryCount: 0 });
    expect(h.Privileged).toBe(false);
    expect(h.NetworkMode).toBe(`srcnet--strict--${user}`); // the user's own network, never the default bridge
    expect(h.PidMode).toBe('');
    expect(h.CapAdd ?? []).toEqual([]);
    expect(h.SecurityOpt).toContain('no-new-privileges:true');
    expect(c.Config.User).toBe('4242:4343');
    expect(h.Mounts).toEqual([
      { Type: 'bind', Source: `${base}/home/${user}`, Target: `/home/${user}` },
      { Type: 'bind', Source: `${base}/scratch`, Target: '/scratch', ReadOnly: true },
    ]);
    // the app sees its user's files and nothing else of the host
    expect((await call('POST', `/strict/start-app?name=${r.body.name}`)).body.state).toBe('running');
    const e = await engine.call<{ Id: string }>({
      method: 'POST',
      path: `/containers/${r.body.id}/exec`,
      body: { Cmd: ['cat', `/home/${user}/notes.txt`], AttachStdout: true },
      statusCodes: { 201: true },
    });
    const out = await engine.call<any>({ method: 'POST', path: `/exec/${e.Id}/start`, body: { Detach: false }, statusCodes: { 200: true } });
    expect(String(out)).toContain('mine');
  });

  it('takes requested limits up to the maximum, and keeps them across a hard reset; a user without identity runs as the fallback UID with no host mount', async () => {
    const r = await call('POST', `/strict/create-app?image=${IMAGES.httpd}&user=${other}&memory=128m&cpus=1&pids=150`);
    expect(r.status).toBe(201);
    const check = async (id: string) => {
      const h = (await engine.inspectContainer(id)).HostConfig;
      expect([h.Memory, h.NanoCpus, h.PidsLimit]).toEqual([128 * 1024 * 1024, 1e9, 150]);
      expect(h.Mounts ?? []).toEqual([]); // no identity: host directories are never mounted
    };
    await check(r.body.id);
    const reset = await call('POST', `/strict/hard-reset-app?name=${r.body.name}`);
    expect(reset.status).toBe(200);
    await check(reset.body.id);
    expect((await engine.inspectContainer(reset.body.id)).Config.User).toBe('65534:65534'); // never the image's root
  });

  it.each([
    ['memory', '512m', 'at most'],
    ['cpus', '2', 'at most'],
    ['pids', '201', 'at most'],
    ['memory', '1k', 'at least'],
    ['memory', 'lots', 'size like'],
    ['cpus', '-1', 'number of CPUs'],
  ])('400 when %s=%s breaks the policy or its rule', async (param, value, rule) => {
    const r = await call('POST', `/strict/create-app?image=${IMAGES.busybox}&user=${other}x&${param}=${value}`);
    expect(r.status).toBe(400);
    expect(r.body.parameter).toBe(param);
    expect(r.body.detail).toContain(rule);
    expect(await engine.listContainers({ all: true, filters: { name: [`busybox--${other}x`] } })).toHaveLength(0);
  });
});
