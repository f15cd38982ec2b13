/**
 * Network isolation in swarm mode, on a real two-node swarm of its own (scripts/swarm-lab.sh in
 * its own lab directory and subnet): each user's services are attached to an attachable overlay
 * of their own (core/user-network.ts), never to another user's; from user A's task, user B's
 * task does not answer at its overlay address while A's own app does; with the default
 * publishing (`swarm.publish: none`) no port is published; a user's overlay goes with their
 * last app.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, setConfig } from '../../core/config.ts';
import { Engine } from '../../core/engine.ts';
import { resetFacilities } from '../../core/facility.ts';
import { call, IMAGES, uniqueUser } from '../helpers.ts';

const run = promisify(execFile);
const LAB = process.env.SWARM_LAB_DIR_ISOLATION ?? '/tmp/src-swarm-lab-isolation';
const SUBNET = process.env.SWARM_LAB_SUBNET_ISOLATION ?? '192.168.237';
const SCRIPT = new URL('../../scripts/swarm-lab.sh', import.meta.url).pathname;
const lab = (...args: string[]) => run('bash', [SCRIPT, ...args], { env: { ...process.env, SWARM_LAB_DIR: LAB, SWARM_LAB_SUBNET: SUBNET }, timeout: 180_000, maxBuffer: 16 << 20 });
const a = uniqueUser('sa');
const MOUNTS = '/tmp/src-swarm-iso-mounts';
const b = uniqueUser('sb');
let lab1: { manager: string; nodes: Record<string, string> };
let manager: Engine;

beforeAll(async () => {
  rmSync(MOUNTS, { recursive: true, force: true });
  mkdirSync(MOUNTS, { recursive: true });
  await lab('up', '--nodes', '2');
  lab1 = JSON.parse(readFileSync(`${LAB}/facility.json`, 'utf8'));
  manager = new Engine({ host: lab1.manager });
  setConfig(
    parseConfig(
      {
        facilities: {
          swarmiso: {
            engine: { host: lab1.manager },
            mode: 'swarm',
            nodes: lab1.nodes,
            images: { approved: ['docker.io/src-test/*'] },
            swarm: { serviceMode: 'replicated', replicas: 1 },
          },
          // a mount source made on the nodes by a global-job helper (core/mount-sources.ts)
          swarmmount: {
            engine: { host: lab1.manager },
            mode: 'swarm',
            nodes: lab1.nodes,
            images: { approved: ['docker.io/src-test/*'] },
            swarm: { serviceMode: 'replicated', replicas: 1 },
            policy: { mountHelperImage: 'src-test/busybox:latest', userMap: { [a]: '54011:54012' }, mounts: [{ source: `${MOUNTS}/{user}`, target: '/data', create: true }] },
          },
        },
      },
      'test/swarm/isolation.test.ts',
    ),
  );
  resetFacilities();
}, 240_000);

afterAll(async () => {
  setConfig(undefined);
  resetFacilities();
  await lab('down');
  rmSync(MOUNTS, { recursive: true, force: true });
}, 180_000);

/** The running task of service `name`: its node's Engine, container ID, and overlay address on `network`. */
async function task(name: string, network: string): Promise<{ engine: Engine; container: string; ip: string }> {
  for (let i = 0; i < 300; i++) {
    const tasks = await manager.call<any[]>({ method: 'GET', path: '/tasks', query: { filters: JSON.stringify({ service: [name], 'desired-state': ['running'] }) }, statusCodes: { 200: true } });
    const t = tasks.find((x) => x.Status?.State === 'running' && x.Status?.ContainerStatus?.ContainerID);
    if (t) {
      const node = await manager.call<any>({ method: 'GET', path: `/nodes/${t.NodeID}`, statusCodes: { 200: true } });
      const att = (t.NetworksAttachments ?? []).find((n: any) => n.Network?.Spec?.Name === network);
      return { engine: new Engine({ host: lab1.nodes[node.Description.Hostname] }), container: t.Status.ContainerStatus.ContainerID, ip: att.Addresses[0].split('/')[0] };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no running task of ${name}`);
}

/** An HTTP GET from inside a task's container (busybox nc): whether the test httpd itself answered. */
async function reaches(from: { engine: Engine; container: string }, ip: string): Promise<boolean> {
  const e = await from.engine.call<{ Id: string }>({
    method: 'POST',
    path: `/containers/${from.container}/exec`,
    body: { Cmd: ['/bin/busybox', 'sh', '-c', `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | /bin/busybox nc -w 3 ${ip} 80`], AttachStdout: true, AttachStderr: true },
    statusCodes: { 201: true },
  });
  const out = await from.engine.call<any>({ method: 'POST', path: `/exec/${e.Id}/start`, body: { Detach: false }, statusCodes: { 200: true }, timeoutMs: 30_000 });
  return String(out).includes('<h1>src-test httpd</h1>');
}

describe('swarm: one attachable overlay per user', () => {
  it("user A's task reaches A's own app at its overlay address, not user B's", async () => {
    for (const [img, u] of [
      [IMAGES.httpd, a],
      [IMAGES.busybox, a],
      [IMAGES.httpd, b],
    ]) {
      const r = await call('POST', `/swarmiso/create-app?image=${img}&user=${u}`);
      expect(r.status, JSON.stringify(r.body)).toBe(201);
    }
    const [netA, netB] = [`srcnet--swarmiso--${a}`, `srcnet--swarmiso--${b}`];
    for (const n of [netA, netB]) {
      const net = await manager.call<any>({ method: 'GET', path: `/networks/${n}`, statusCodes: { 200: true } });
      expect([net.Driver, net.Attachable, net.Scope]).toEqual(['overlay', true, 'swarm']);
    }
    const svc = await manager.call<any>({ method: 'GET', path: `/services/httpd--${a}`, statusCodes: { 200: true } });
    expect(svc.Spec.TaskTemplate.Networks.map((n: any) => n.Target)).toHaveLength(1);
    expect(svc.Endpoint?.Ports ?? []).toEqual([]); // default publishing: none
    const [httpdA, busyA, httpdB] = await Promise.all([task(`httpd--${a}`, netA), task(`busybox--${a}`, netA), task(`httpd--${b}`, netB)]);
    expect(await reaches(busyA, httpdA.ip)).toBe(true);
    expect(await reaches(busyA, httpdB.ip)).toBe(false);
    expect(await reaches(httpdA, httpdB.ip)).toBe(false);
  }, 180_000);

  it("a user's overlay goes with their last app", async () => {
    for (const name of [`httpd--${b}`]) expect((await call('POST', `/swarmiso/kill-app?name=${name}`)).status).toBe(200);
    // the swarm removes a service's tasks asynchronously: the release retries on the next kill; here we wait for it
    let gone = false;
    for (let i = 0; i < 100 && !gone; i++) {
      gone = (await manager.call<any>({ method: 'GET', path: `/networks/srcnet--swarmiso--${b}`, statusCodes: { 200: true, 404: 'gone' } }).catch((e) => e.statusCode)) === 404;
      if (!gone) await new Promise((r) => setTimeout(r, 200));
    }
    expect(gone).toBe(true);
    for (const name of [`httpd--${a}`, `busybox--${a}`]) await call('POST', `/swarmiso/kill-app?name=${name}`);
  }, 60_000);
});

describe('swarm: a missing mount source is made on the nodes', () => {
  it("created owned by the user's UID:GID by a global-job helper, which is removed after", async () => {
    const r = await call('POST', `/swarmmount/create-app?image=${IMAGES.busybox}&user=${a}`);
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    const st = statSync(`${MOUNTS}/${a}`);
    expect([st.uid, st.gid, st.mode & 0o777]).toEqual([54011, 54012, 0o750]);
    const helpers = await manager.call<any[]>({ method: 'GET', path: '/services', query: { filters: JSON.stringify({ label: ['io.src-container-api.helper'] }) }, statusCodes: { 200: true } });
    expect(helpers).toEqual([]);
    expect((await call('POST', `/swarmmount/kill-app?name=busybox--${a}`)).status).toBe(200);
  }, 120_000);
});
