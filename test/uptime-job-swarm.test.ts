/**
 * The uptime job for a swarm-mode facility, on a one-node swarm of its own
 * (scripts/swarm-lab.sh in a private lab directory; the main engine is never touched).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { parseConfig, setConfig } from '../core/config.ts';
import { Engine } from '../core/engine.ts';
import { resetFacilities } from '../core/facility.ts';
import { runUptimeJob } from '../core/uptime-job.ts';
import { isoToNs, nsToIso } from '../core/uptime-model.ts';
import { uptimeDb } from '../core/uptime-store.ts';
import { call, IMAGES, uniqueUser } from './helpers.ts';

const run = promisify(execFile);
const rand = Math.random().toString(36).slice(2, 8);
const LAB = `/tmp/src-swarm-up${rand}`;
const labEnv = { ...process.env, SWARM_LAB_DIR: LAB, SWARM_LAB_SUBNET: `192.168.${200 + Math.floor(Math.random() * 50)}` };
const manager = `unix://${LAB}/node1/docker.sock`;
const FAC = `upw${rand}`;
setConfig(
  parseConfig(
    {
      facilities: {
        [FAC]: {
          description: 'uptime job test, swarm mode',
          engine: { host: manager, timeoutMs: 10_000 },
          mode: 'swarm',
          swarm: { serviceMode: 'replicated', replicas: 1 },
          images: { approved: ['docker.io/src-test/*'] },
        },
      },
    },
    'test/uptime-job-swarm.test.ts',
  ),
);
resetFacilities();
const lab = (...args: string[]) => run('bash', ['scripts/swarm-lab.sh', ...args], { env: labEnv, timeout: 180_000 });
const docker = (...args: string[]) => run('docker', ['-H', manager, ...args], { timeout: 60_000 });
const one = async () => (await runUptimeJob({ facilities: [FAC] })).facilities[0];

beforeAll(async () => {
  await lab('up', '--nodes', '1');
}, 240_000);
afterAll(async () => {
  const db = await uptimeDb();
  for (const t of ['uptime_transitions', 'uptime_samples', 'uptime_checkpoints', 'uptime_leases']) {
    await db.execute({ sql: `DELETE FROM ${t} WHERE facility = ?`, args: [FAC] });
  }
  await lab('down');
}, 240_000);

/**
 * Waits until the service's tasks reach `state` (running: one running; stopped: none running).
 * Resolves to the latest `Status.Timestamp` (ns) of the stopped tasks seen then, or null when
 * swarm had already deleted them (it deletes a scaled-down task once it has shut down).
 */
async function settle(engine: Engine, service: string, running: boolean): Promise<bigint | null> {
  for (let i = 0; i < 300; i++) {
    const tasks = await engine.listTasks({ filters: { service: [service] } });
    if (tasks.some((t) => t.Status?.State === 'running') === running) {
      return tasks
        .filter((t) => t.Status?.State !== 'running')
        .reduce<bigint | null>((m, t) => {
          const at = isoToNs(t.Status.Timestamp)!;
          return m === null || at > m ? at : m;
        }, null);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`service ${service} did not become ${running ? 'running' : 'stopped'}`);
}

describe('uptime job in swarm mode', () => {
  it('records service apps, dated by the swarm’s task timestamps', async () => {
    const user = uniqueUser('sw');
    const created = await call('POST', `/${FAC}/create-app?image=${encodeURIComponent(IMAGES.busybox)}&user=${user}`);
    expect(created.status).toBe(201);
    const name = created.body.name as string;
    const engine = new Engine({ host: manager });
    await settle(engine, name, true);

    const r1 = await one();
    expect(r1).toMatchObject({ outcome: 'first-run', samples: 1 });

    await docker('service', 'scale', '--detach', `${name}=0`);
    const scaledAt = isoToNs((await engine.inspectService(name)).UpdatedAt)!;
    const stoppedTask = await settle(engine, name, false);
    const r2 = await one();
    expect(r2).toMatchObject({ outcome: 'recorded', transitions: 1 });

    await docker('service', 'scale', '--detach', `${name}=1`);
    await settle(engine, name, true);
    const r3 = await one();
    expect(r3).toMatchObject({ outcome: 'recorded', transitions: 1 });
    const started = (await engine.listTasks({ filters: { service: [name], 'desired-state': ['running'] } })).map((t) => isoToNs(t.Status.Timestamp)!)[0];

    const db = await uptimeDb();
    const ts = (await db.execute({ sql: 'SELECT at, state, source, action FROM uptime_transitions WHERE facility = ? AND app = ? ORDER BY at', args: [FAC, name] })).rows;
    expect(ts.map((t) => [t.state, t.source])).toEqual([
      ['running', 'first-run'],
      ['not-running', 'reconcile'],
      ['running', 'reconcile'],
    ]);
    expect([ts[0].action, ts[2].action]).toEqual([null, 'task-running']);
    // the stop is dated by the stopped task's own time while swarm still lists it (ms after it
    // shut down), else by the scale's service update
    if (ts[1].action === 'task-stopped') {
      expect(stoppedTask).not.toBeNull();
      expect(ts[1].at).toBe(nsToIso(stoppedTask!));
    } else {
      expect(ts[1]).toMatchObject({ action: 'service-updated', at: nsToIso(scaledAt) });
    }
    expect(ts[2].at).toBe(nsToIso(started));

    const sum = await call('GET', `/${FAC}/get-uptime-summary?name=${name}&duration=hour&detail=true`);
    expect(sum.status).toBe(200);
    expect(sum.body.intervals.map((i: { state: string }) => i.state)).toEqual(['running', 'not-running', 'running']);
    await docker('service', 'rm', name);
  }, 120_000);
});
