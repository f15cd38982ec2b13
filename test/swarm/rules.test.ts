/**
 * The rules solo and swarm mode share (issue 11), on a two-node swarm lab of its own
 * (scripts/swarm-lab.sh, own lab directory and subnet; the manager is drained, so every task
 * runs on the worker src-node2): names unique regardless of case with a 409 that names an app
 * that exists, no published port unless `swarm.publish: "all"`, a task on a Down node is
 * `unknown` in get-app-status and in the uptime history, a short job between two uptime runs
 * is recorded, an app without history answers 200 `{}`. The solo side is test/rules.test.ts.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, setConfig } from '../../core/config.ts';
import { Engine } from '../../core/engine.ts';
import { resetFacilities } from '../../core/facility.ts';
import { runUptimeJob } from '../../core/uptime-job.ts';
import { uptimeDb } from '../../core/uptime-store.ts';
import { call, IMAGES, uniqueUser, until } from '../helpers.ts';
import { DOCKER_CLI } from '../cli.ts';

const run = promisify(execFile);
const rand = Math.random().toString(36).slice(2, 8);
const LAB = process.env.SWARM_LAB_DIR || `/tmp/src-swarm-rules-${rand}`;
const SUBNET = process.env.SWARM_LAB_SUBNET || `192.168.${150 + Math.floor(Math.random() * 40)}`;
const SCRIPT = new URL('../../scripts/swarm-lab.sh', import.meta.url).pathname;
const lab = (...args: string[]) => run('bash', [SCRIPT, ...args], { env: { ...process.env, SWARM_LAB_DIR: LAB, SWARM_LAB_SUBNET: SUBNET }, timeout: 180_000, maxBuffer: 16 << 20 });
const sock = (k: number) => `unix://${LAB}/node${k}/docker.sock`;
const node = (k: number) => new Engine({ host: sock(k) });
const manager = node(1);
const docker = (...args: string[]) => run(DOCKER_CLI, ['-H', sock(1), ...args], { env: { ...process.env, DOCKER_HOST: '', DOCKER_CONTEXT: '' }, timeout: 60_000 });

/** Facilities: jobs (default), long-running services that are not restarted, the same publishing ports. */
const FAC = { job: `rj${rand}`, svc: `rs${rand}`, pub: `rp${rand}` };
const SHORT_JOB = 'src-test/shortjob:latest';

const job = async (facility: string) => (await runUptimeJob({ facilities: [facility] })).facilities[0];
async function transitions(facility: string, app: string) {
  const db = await uptimeDb();
  return (await db.execute({ sql: 'SELECT at, state, source, action FROM uptime_transitions WHERE facility = ? AND app = ? ORDER BY at', args: [facility, app] })).rows;
}

beforeAll(async () => {
  await lab('up', '--nodes', '2');
  const f = JSON.parse(readFileSync(`${LAB}/facility.json`, 'utf8'));
  const base = { engine: { host: f.manager, timeoutMs: 10_000 }, mode: 'swarm', nodes: f.nodes, images: { approved: ['docker.io/src-test/*'] } };
  setConfig(
    parseConfig(
      {
        facilities: {
          [FAC.job]: base,
          [FAC.svc]: { ...base, swarm: { serviceMode: 'replicated', replicas: 1, restart: 'none' } },
          [FAC.pub]: { ...base, swarm: { serviceMode: 'replicated', replicas: 1, publish: 'all' } },
        },
      },
      'test/swarm/rules.test.ts',
    ),
  );
  resetFacilities();
  // every task on the worker, so that stopping it leaves no task running
  await docker('node', 'update', '--availability', 'drain', 'src-node1');
  // a job image that ends by itself after 2 s, on both nodes
  for (const k of [1, 2]) {
    const e = node(k);
    const c = await e.createContainer(`shortjob-src-${rand}`, { Image: IMAGES.busybox });
    await e.call({ method: 'POST', path: '/commit', query: { container: c.Id, repo: 'src-test/shortjob', tag: 'latest', changes: 'CMD ["/bin/sh","-c","sleep 2"]' }, statusCodes: { 201: true } });
    await e.removeContainer(c.Id, { force: true });
  }
}, 240_000);

afterAll(async () => {
  const db = await uptimeDb();
  for (const fac of Object.values(FAC)) {
    for (const t of ['uptime_transitions', 'uptime_samples', 'uptime_checkpoints', 'uptime_leases']) {
      await db.execute({ sql: `DELETE FROM ${t} WHERE facility = ?`, args: [fac] });
    }
  }
  setConfig(undefined);
  resetFacilities();
  await lab('down');
}, 240_000);

describe('names in swarm mode', () => {
  it('busybox--tX blocks busybox--tx: 409 app_exists naming the service that exists; routes find only the exact name', async () => {
    const base = uniqueUser().slice(1);
    const [upper, lower] = [`tR${base}`, `tr${base}`];
    const first = await call('POST', `/${FAC.job}/create-app?image=${IMAGES.busybox}&user=${upper}`);
    expect([first.status, first.body.name]).toEqual([201, `busybox--${upper}`]);
    const again = await call('POST', `/${FAC.job}/create-app?image=${IMAGES.busybox}&user=${lower}`);
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: 'app_exists', name: `busybox--${upper}`, requested: `busybox--${lower}`, existingImage: IMAGES.busybox });
    expect((await call('GET', `/${FAC.job}/get-app-status?name=${again.body.name}`)).status).toBe(200);
    const other = await call('GET', `/${FAC.job}/get-app-info?name=busybox--${lower}`);
    expect([other.status, other.body.code]).toEqual([404, 'app_not_found']);
    expect((await call('POST', `/${FAC.job}/kill-app?name=busybox--${upper}`)).status).toBe(200);
  });
});

describe('ports in swarm mode', () => {
  it('nothing is published by default; swarm.publish "all" publishes every exposed port in host mode', async () => {
    const u = uniqueUser('p');
    const quiet = await call('POST', `/${FAC.svc}/create-app?image=${IMAGES.httpd}&user=${u}`);
    expect(quiet.status).toBe(201);
    expect(quiet.body.ports).toEqual([]);
    expect((await manager.inspectService(quiet.body.id)).Spec.EndpointSpec.Ports ?? []).toEqual([]);
    const st = await until('the task to run', 30_000, async () => {
      const x = await call('GET', `/${FAC.svc}/get-app-status?name=httpd--${u}`);
      return x.body.State === 'running' && x.body;
    });
    expect(st.Tasks[0].Ports).toBe('');
    const u2 = uniqueUser('p'); // another name: the swarm's service names are shared by its facilities
    const loud = await call('POST', `/${FAC.pub}/create-app?image=${IMAGES.httpd}&user=${u2}`);
    expect(loud.status).toBe(201);
    expect(loud.body.ports).toEqual(['80/tcp']);
    expect((await manager.inspectService(loud.body.id)).Spec.EndpointSpec.Ports).toEqual([{ Protocol: 'tcp', TargetPort: 80, PublishMode: 'host' }]);
    await call('POST', `/${FAC.svc}/kill-app?name=httpd--${u}`);
    await call('POST', `/${FAC.pub}/kill-app?name=httpd--${u2}`);
  });
});

describe('uptime of a swarm app', () => {
  it('an app without history yet answers 200 {}', async () => {
    const u = uniqueUser('n');
    const r = await call('POST', `/${FAC.job}/create-app?image=${IMAGES.busybox}&user=${u}`);
    expect(r.status).toBe(201);
    const sum = await call('GET', `/${FAC.job}/get-uptime-summary?name=${r.body.name}&duration=hour`);
    expect([sum.status, sum.body]).toEqual([200, {}]);
    const detail = await call('GET', `/${FAC.job}/get-uptime-summary?name=${r.body.name}&duration=hour&detail=true`);
    expect(detail.body).toMatchObject({ uptimeRatio: null, intervals: [] });
    await call('POST', `/${FAC.job}/kill-app?name=${r.body.name}`);
  });

  it('a job that runs 2 s and completes between two uptime runs is recorded from its task’s timestamps', async () => {
    await job(FAC.job); // the checkpoint before the app exists
    const u = uniqueUser('s');
    const r = await call('POST', `/${FAC.job}/create-app?image=${SHORT_JOB}&user=${u}`);
    expect(r.status).toBe(201);
    const task = await until('the job to complete', 60_000, async () => {
      const ts = await manager.listTasks({ filters: { service: [r.body.id] } });
      return ts.find((t) => t.Status?.State === 'complete');
    });
    expect(await job(FAC.job)).toMatchObject({ outcome: 'recorded' });
    const ts = await transitions(FAC.job, r.body.name);
    expect(ts.map((t) => [t.state, t.action])).toEqual([
      ['not-running', 'service-created'],
      ['running', 'task-ran'],
      ['not-running', 'task-ended'],
    ]);
    expect(ts[2].at).toBe(`${task.Status.Timestamp.slice(0, 19)}.${(task.Status.Timestamp.slice(20, -1) || '').padEnd(9, '0')}Z`);
    const sum = await call('GET', `/${FAC.job}/get-uptime-summary?name=${r.body.name}&duration=hour&detail=true`);
    expect(sum.body.seconds.running).toBeGreaterThanOrEqual(2);
    expect(sum.body.uptimeRatio).toBeGreaterThan(0);
    await call('POST', `/${FAC.job}/kill-app?name=${r.body.name}`);
  }, 120_000);

  it('a task on a node that goes Down: get-app-status says unknown with the node state; the history records unknown', async () => {
    const u = uniqueUser('d');
    const r = await call('POST', `/${FAC.svc}/create-app?image=${IMAGES.busybox}&user=${u}`);
    expect(r.status).toBe(201);
    const name = r.body.name as string;
    await until('the task to run on src-node2', 30_000, async () => {
      const x = await call('GET', `/${FAC.svc}/get-app-status?name=${name}`);
      return x.body.State === 'running' && x.body.Tasks[0].Node === 'src-node2' && x.body;
    });
    expect(await job(FAC.svc)).toMatchObject({ outcome: 'first-run' });
    await lab('stop-node', '2');
    try {
      const st = await until('the node to be Down', 60_000, async () => {
        const x = await call('GET', `/${FAC.svc}/get-app-status?name=${name}`);
        return x.body.Tasks?.[0]?.NodeState === 'down' && x.body;
      });
      expect(st.State).toBe('unknown');
      expect(st.Tasks[0]).toMatchObject({ Node: 'src-node2', State: 'unknown', NodeState: 'down' });
      expect(await job(FAC.svc)).toMatchObject({ outcome: 'recorded' });
      const ts = await transitions(FAC.svc, name);
      expect(ts.map((t) => [t.state, t.action])).toEqual([
        ['running', null],
        ['unknown', 'node-down'],
      ]);
      const nodeDown = (await manager.listNodes()).find((n: any) => n.Description?.Hostname === 'src-node2');
      expect(String(ts[1].at).slice(0, 19)).toBe(nodeDown.UpdatedAt.slice(0, 19));
      const sum = await call('GET', `/${FAC.svc}/get-uptime-summary?name=${name}&duration=hour&detail=true`);
      expect(sum.body.intervals.map((i: { state: string }) => i.state)).toEqual(['running', 'unknown']);
      expect(sum.body.seconds.unknown).toBeGreaterThan(0);
    } finally {
      await lab('start-node', '2');
    }
    await until('the node to be ready', 60_000, async () => {
      const x = await call('GET', `/${FAC.svc}/get-app-status?name=${name}`);
      return x.body.Tasks?.[0]?.NodeState === 'ready' && x.body.State !== 'unknown' && x.body;
    });
    await job(FAC.svc);
    const after = await transitions(FAC.svc, name);
    expect(after[1]).toMatchObject({ state: 'unknown' });
    expect(after.length).toBe(3); // out of unknown once the node answers again
    await call('POST', `/${FAC.svc}/kill-app?name=${name}`);
  }, 240_000);
});
