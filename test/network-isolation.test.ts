/**
 * Network isolation in solo mode (core/user-network.ts): each user's apps share a bridge of
 * their own with a subnet from the facility's pool; from user A's app, user B's app answers
 * neither at its container address nor at its published port (published on 127.0.0.1, the
 * default), while the host still reaches both; A's own apps reach each other. Networks of 40
 * users are allocated (distinct subnets from the pool) and removed with each user's last app.
 */
import pMap from 'p-map';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cidrRange } from '../core/user-network.ts';
import { call, createApp, engine, IMAGES, removeUserApps, uniqueUser } from './helpers.ts';

const a = uniqueUser('na');
const b = uniqueUser('nb');
const many = Array.from({ length: 40 }, (_, i) => uniqueUser(`n${i}`));

/** Runs `cmd` inside container `id` (Engine exec API) and answers its exit code and output. */
async function exec(id: string, cmd: string[]): Promise<{ code: number; out: string }> {
  const e = await engine.call<{ Id: string }>({
    method: 'POST',
    path: `/containers/${id}/exec`,
    body: { Cmd: cmd, AttachStdout: true, AttachStderr: true },
    statusCodes: { 201: true },
  });
  const out = await engine.call<any>({ method: 'POST', path: `/exec/${e.Id}/start`, body: { Detach: false }, statusCodes: { 200: true }, timeoutMs: 30_000 });
  const info = await engine.call<{ ExitCode: number }>({ method: 'GET', path: `/exec/${e.Id}/json`, statusCodes: { 200: true } });
  return { code: info.ExitCode, out: String(out) };
}

/**
 * An HTTP GET from inside `id` to `url` (busybox nc, 3 s timeout; busybox-static's wget
 * crashes as a non-root UID): whether the test httpd itself answered (its page), not merely
 * something on the path (a sandbox's egress proxy answers any outbound connection).
 */
async function reaches(id: string, url: string): Promise<boolean> {
  const { host, port } = new URL(url);
  const r = await exec(id, ['/bin/busybox', 'sh', '-c', `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | /bin/busybox nc -w 3 ${host} ${port || 80}`]);
  return r.out.includes('<h1>src-test httpd</h1>');
}

interface Started {
  id: string;
  ip: string;
  gateway: string;
  network: string;
  port: string;
}

async function startHttpd(user: string): Promise<Started> {
  const app = await createApp(IMAGES.httpd, user);
  expect((await call('POST', `/demo/start-app?name=${app.name}`)).status).toBe(200);
  const c = await engine.inspectContainer(app.id);
  const [network, settings] = Object.entries<any>(c.NetworkSettings.Networks)[0];
  return { id: app.id, ip: settings.IPAddress, gateway: settings.Gateway, network, port: c.NetworkSettings.Ports['80/tcp'][0].HostPort };
}

let A: Started;
let B: Started;
let aBusy: string;

beforeAll(async () => {
  [A, B] = await Promise.all([startHttpd(a), startHttpd(b)]);
  const busy = await createApp(IMAGES.busybox, a);
  await call('POST', `/demo/start-app?name=${busy.name}`);
  aBusy = busy.id;
}, 120_000);

afterAll(() => removeUserApps(a, b, ...many), 120_000);

describe('solo: one network per user', () => {
  it('no app is on the default bridge: each user has a bridge of their own, its subnet from the pool', async () => {
    expect(A.network).toBe(`srcnet--demo--${a}`);
    expect(B.network).toBe(`srcnet--demo--${b}`);
    const [pa, pb] = await Promise.all([engine.inspectNetwork(A.network), engine.inspectNetwork(B.network)]);
    for (const n of [pa, pb]) {
      expect(n.Driver).toBe('bridge');
      const [lo, hi] = cidrRange(n.IPAM.Config[0].Subnet);
      const [plo, phi] = cidrRange('10.213.0.0/16');
      expect(lo >= plo && hi <= phi, n.IPAM.Config[0].Subnet).toBe(true);
    }
    expect(pa.IPAM.Config[0].Subnet).not.toBe(pb.IPAM.Config[0].Subnet);
    const bridge = await engine.inspectNetwork('bridge');
    expect(Object.keys(bridge.Containers ?? {})).not.toContain(A.id);
  });

  it("the host reaches every app's container address and published port", async () => {
    for (const s of [A, B]) {
      expect((await fetch(`http://${s.ip}:80/`)).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${s.port}/`)).status).toBe(200);
    }
  });

  it("user A's apps reach each other (same network)", async () => {
    expect(await reaches(aBusy, `http://${A.ip}:80/`)).toBe(true);
  });

  it("from user A's app, user B's app answers neither at its container address nor at its published port", async () => {
    expect(await reaches(aBusy, `http://${B.ip}:80/`)).toBe(false);
    // published on 127.0.0.1: inside A's container that is A's own loopback; nor through the host's addresses
    for (const host of ['127.0.0.1', A.gateway, B.gateway, '172.17.0.1']) {
      expect(await reaches(aBusy, `http://${host}:${B.port}/`), `${host}:${B.port}`).toBe(false);
    }
  });

  it('40 users: distinct subnets from the pool, each network removed with its last app', async () => {
    const created = await pMap(many, (u) => createApp(IMAGES.busybox, u), { concurrency: 8 });
    const subnets = await pMap(many, async (u) => (await engine.inspectNetwork(`srcnet--demo--${u}`)).IPAM.Config[0].Subnet, { concurrency: 8 });
    expect(new Set(subnets).size).toBe(40);
    const deleted = await pMap(created, (app) => call('POST', `/demo/delete-app?name=${app.name}`), { concurrency: 8 });
    expect(deleted.map((r) => r.status)).toEqual(deleted.map(() => 200));
    const left = await engine.listNetworks({ filters: { name: ['srcnet--demo--n'] } });
    expect(left.filter((n) => many.some((u) => n.Name === `srcnet--demo--${u}`))).toEqual([]);
  }, 180_000);

  it('a created app whose network was removed meanwhile (a sweep, a racing delete) starts: the network is made again', async () => {
    const u = many[1];
    const app = await createApp(IMAGES.busybox, u);
    await engine.removeNetwork(`srcnet--demo--${u}`);
    const r = await call('POST', `/demo/start-app?name=${app.name}`);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.state).toBe('running');
    expect((await call('POST', `/demo/delete-app?name=${app.name}`)).status).toBe(200);
  });

  it('a create racing with the last delete of the same user leaves a working app and its network', async () => {
    const u = many[0];
    for (let round = 0; round < 5; round++) {
      const first = await createApp(IMAGES.busybox, u);
      const [del, created] = await Promise.all([call('POST', `/demo/delete-app?name=${first.name}`), call('POST', `/demo/create-app?image=${IMAGES.httpd}&user=${u}`)]);
      expect(del.status).toBe(200);
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const start = await call('POST', `/demo/start-app?name=${created.body.name}`);
      expect(start.status, JSON.stringify(start.body)).toBe(200);
      expect((await call('POST', `/demo/delete-app?name=${created.body.name}`)).status).toBe(200);
      expect(await engine.inspectNetwork(`srcnet--demo--${u}`).catch((e) => e.statusCode)).toBe(404);
    }
  }, 120_000);
});
