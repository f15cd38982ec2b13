import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createApp, engine, IMAGES, removeUserApps, uniqueUser } from './helpers.ts';
import { LABELS, LABEL_PREFIX } from '../core/naming.ts';

const user = uniqueUser('c');
const user2 = uniqueUser('c');
const aliasRepo = `127.0.0.1:5999/${user}/jupyter-lab`;
const otherBusybox = `127.0.0.1:5999/${user}/busybox`;

async function tag(source: string, repo: string, tagName: string) {
  await engine.call({ method: 'POST', path: `/images/${source}/tag`, query: { repo, tag: tagName }, statusCodes: { 201: true } });
}

beforeAll(async () => {
  await tag(IMAGES.busybox, aliasRepo, '1.2');
  await tag(IMAGES.busybox, otherBusybox, 'latest');
});
afterAll(async () => {
  await removeUserApps(user, user2);
  for (const r of [`${aliasRepo}:1.2`, `${otherBusybox}:latest`]) {
    await engine.call({ method: 'DELETE', path: `/images/${r}`, statusCodes: { 200: true, 404: 'gone' } }).catch(() => undefined);
  }
});

describe('POST /{facility}/create-app', () => {
  it('creates (does not start) IMAGE--USER with our labels and answers 201', async () => {
    const r = await call('POST', `/demo/create-app?image=${IMAGES.busybox}&user=${user}`);
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ name: `busybox--${user}`, state: 'created', image: IMAGES.busybox });
    expect(r.body.id).toMatch(/^[0-9a-f]{64}$/);
    const c = await engine.inspectContainer(r.body.id);
    expect(c.Name).toBe(`/busybox--${user}`);
    expect(c.State.Status).toBe('created');
    const labels = c.Config.Labels;
    expect(Object.keys(labels).every((k: string) => k.startsWith(LABEL_PREFIX))).toBe(true);
    expect(labels[LABELS.schema]).toBe('1');
    expect(labels[LABELS.facility]).toBe('demo');
    expect(labels[LABELS.user]).toBe(user);
    expect(labels[LABELS.app]).toBe(`busybox--${user}`);
    expect(labels[LABELS.imageReference]).toBe(IMAGES.busybox);
    expect(labels[LABELS.imageNormalized]).toBe('docker.io/src-test/busybox:latest');
    expect(labels[LABELS.imageId]).toBe(c.Image);
    expect(JSON.parse(labels[LABELS.createParams])).toEqual({ publishHost: '127.0.0.1', ports: [], requested: {} });
  });

  it('a second create of the same app is 409', async () => {
    const r = await call('POST', `/demo/create-app?image=${IMAGES.busybox}&user=${user}`);
    expect(r.status).toBe(409);
    expect(r.body.code).toBe('app_exists');
  });

  it('another repository with the same IMAGE part for the same user is 409 naming the existing reference', async () => {
    const r = await call('POST', `/demo/create-app?image=${encodeURIComponent(otherBusybox)}&user=${user}`);
    expect(r.status).toBe(409);
    expect(r.body.existingImage).toBe(IMAGES.busybox);
    expect(r.body.detail).toContain(IMAGES.busybox);
  });

  it('takes a full reference with registry port, namespace and tag; IMAGE is the last path component', async () => {
    const ref = `${aliasRepo}:1.2`;
    const r = await call('POST', `/demo/create-app?image=${encodeURIComponent(ref)}&user=${user}`);
    expect(r.status).toBe(201);
    expect(r.body.name).toBe(`jupyter-lab--${user}`);
    const c = await engine.inspectContainer(r.body.id);
    expect(c.Config.Image).toBe(ref);
    expect(c.Config.Labels[LABELS.imageNormalized]).toBe(ref);
  });

  it("publishes the image's exposed ports to an engine-chosen port on 127.0.0.1, reachable once started", async () => {
    const body = await createApp(IMAGES.httpd, user2);
    expect(body.ports).toEqual(['80/tcp']);
    const c = await engine.inspectContainer(body.id);
    expect(c.HostConfig.PortBindings).toEqual({ '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] });
    expect((await call('POST', `/demo/start-app?name=${body.name}`)).status).toBe(200);
    const started = await engine.inspectContainer(body.id);
    const binding = started.NetworkSettings.Ports['80/tcp'][0];
    expect(binding.HostIp).toBe('127.0.0.1');
    let page = '';
    for (let i = 0; i < 150 && !page; i++) {
      page = await fetch(`http://127.0.0.1:${binding.HostPort}/`)
        .then((r) => r.text())
        .catch(() => '');
      if (!page) await new Promise((r) => setTimeout(r, 100));
    }
    expect(page).toContain('src-test httpd');
  });

  it('404 naming an image that is not on the Engine', async () => {
    const r = await call('POST', `/demo/create-app?image=src-test/not-there:9&user=${user}`);
    expect(r.status).toBe(404);
    expect(r.body.code).toBe('image_not_found');
    expect(r.body.detail).toContain('src-test/not-there:9');
  });

  it.each([
    ['a--b', "'--'"],
    ['-ab', "start or end with '-'"],
    ['ab-', "start or end with '-'"],
    ['a b', 'letters, digits'],
    ['x'.repeat(33), 'at most 32'],
    ['', 'must not be empty'],
    ['ü', 'letters, digits'],
  ])('400 for user %j naming the rule', async (bad, rule) => {
    const r = await call('POST', `/demo/create-app?image=${IMAGES.busybox}&user=${encodeURIComponent(bad)}`);
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ code: 'invalid_parameter', parameter: 'user' });
    expect(r.body.rule).toContain(rule);
  });

  it.each(['UPPER', 'x$(touch /tmp/p)', 'a:b:c', '/abs', ''])('400 for image %j', async (bad) => {
    const r = await call('POST', `/demo/create-app?image=${encodeURIComponent(bad)}&user=${user}`);
    expect(r.status).toBe(400);
    expect(r.body.parameter).toBe('image');
  });

  it('400 when IMAGE--USER would exceed 63 characters', async () => {
    const r = await call('POST', `/demo/create-app?image=${'b'.repeat(40)}&user=${'u'.repeat(30)}`);
    expect(r.status).toBe(400);
    expect(r.body.rule).toContain('63');
  });

  it('400 for missing or repeated parameters', async () => {
    expect((await call('POST', `/demo/create-app?user=${user}`)).body.parameter).toBe('image');
    expect((await call('POST', `/demo/create-app?image=${IMAGES.busybox}`)).body.parameter).toBe('user');
    const r = await call('POST', `/demo/create-app?image=${IMAGES.busybox}&user=${user}&user=x`);
    expect(r.status).toBe(400);
    expect(r.body.rule).toContain('at most once');
  });

  it('405 for GET, 404 for an unknown facility', async () => {
    const r = await call('GET', `/demo/create-app?image=${IMAGES.busybox}&user=${user}`);
    expect(r.status).toBe(405);
    expect(r.headers.get('allow')).toBe('POST');
    const u = await call('POST', `/nowhere/create-app?image=${IMAGES.busybox}&user=${user}`);
    expect(u.status).toBe(404);
    expect(u.body.code).toBe('unknown_facility');
  });

  it('apps belong to their facility: another facility does not see or touch them', async () => {
    const names = await call('GET', `/other/get-app-names?user=${user}`);
    expect(names.body).toEqual([]);
    const r = await call('POST', `/other/start-app?name=busybox--${user}`);
    expect(r.status).toBe(404);
  });
});
