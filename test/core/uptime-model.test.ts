import { describe, expect, it } from 'vitest';
import type { EngineEvent } from '../../core/engine.ts';
import { parseEventLines, engineTimestamp } from '../../core/engine.ts';
import { LABELS } from '../../core/naming.ts';
import { appStateFrom, isoToNs, nsToIso, reconstructContainer, secondKey, stateAfter, stateBefore, type ContainerView } from '../../core/uptime-model.ts';
import { computeRun, type RunInput } from '../../core/uptime-run.ts';
import { computeSwarmRun } from '../../core/uptime-swarm-run.ts';

const F = 'fac';
const S = 1_000_000_000n; // one second in ns
const base = 1_795_000_000n * S;
const at = (sec: number, ns = 0) => base + BigInt(sec) * S + BigInt(ns);

function ev(action: string, id: string, app: string, t: bigint, facility = F): EngineEvent {
  return {
    Type: 'container',
    Action: action,
    Actor: { ID: id, Attributes: { [LABELS.schema]: '1', [LABELS.facility]: facility, [LABELS.app]: app, name: app } },
    time: Number(t / S),
    timeNano: String(t),
  };
}

function run(p: Partial<RunInput>): ReturnType<typeof computeRun> {
  return computeRun({ facility: F, t0: at(0), snapshot: {}, events: [], covered: true, T: at(60), unreachableSince: null, containers: [], ...p });
}

describe('times', () => {
  it('round-trips nanoseconds through fixed-width ISO UTC', () => {
    const ns = 1_795_955_449_070_197_545n;
    expect(nsToIso(ns)).toBe('2026-11-29T12:30:49.070197545Z');
    expect(isoToNs(nsToIso(ns))).toBe(ns);
    expect(nsToIso(at(0))).toHaveLength(30);
  });

  it('reads the Engine’s RFC 3339 times: trimmed fractions, offsets, zero time', () => {
    expect(isoToNs('2026-11-29T12:30:49.0701975Z')).toBe(1_795_955_449_070_197_500n);
    expect(isoToNs('2026-11-29T12:30:49Z')).toBe(1_795_955_449_000_000_000n);
    expect(isoToNs('2026-11-29T13:30:49.5+01:00')).toBe(1_795_955_449_500_000_000n);
    expect(isoToNs('0001-01-01T00:00:00Z')).toBeNull();
    expect(isoToNs('yesterday')).toBeNull();
    expect(secondKey('2026-11-29T12:30:49.070197545Z')).toBe('2026-11-29T12:30:49Z');
  });

  it('keeps timeNano exact when parsing the event stream', () => {
    const line =
      '{"status":"start","id":"x","Type":"container","Action":"start","Actor":{"ID":"x","Attributes":{"a":"\\"timeNano\\":1"}},"scope":"local","time":1795955351,"timeNano":1795955351649077909}';
    const [e] = parseEventLines(`${line}\n\n`);
    expect(e.timeNano).toBe('1795955351649077909');
    expect(engineTimestamp(1_795_955_351_649_077_909n)).toBe('1795955351.649077909');
    expect(engineTimestamp(5n)).toBe('0.000000005');
  });

  it('does not depend on the process time zone', () => {
    const saved = process.env.TZ;
    try {
      const out: string[] = [];
      for (const tz of ['UTC', 'Pacific/Chatham', 'America/St_Johns']) {
        process.env.TZ = tz;
        out.push(nsToIso(at(0, 123)), String(isoToNs('2026-03-29T01:30:00.5Z')));
      }
      expect(new Set(out.filter((_, i) => i % 2 === 0)).size).toBe(1);
      expect(new Set(out.filter((_, i) => i % 2 === 1)).size).toBe(1);
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });
});

describe('event actions', () => {
  it('map to running / not running (paused is not running)', () => {
    expect(stateAfter('start')).toBe('running');
    expect(stateAfter('unpause')).toBe('running');
    expect(stateAfter('restart')).toBe('running');
    expect(stateAfter('pause')).toBe('paused');
    expect(stateAfter('die')).toBe('stopped');
    expect(stateAfter('create')).toBe('stopped');
    expect(stateAfter('destroy')).toBe('absent');
    expect(stateAfter('kill')).toBeUndefined();
    expect(stateAfter('exec_start: sh -c true')).toBeUndefined();
    expect(stateAfter('health_status: healthy')).toBeUndefined();
    expect(stateBefore('die')).toBeNull();
    expect(stateBefore('start')).toBe('stopped');
    expect(stateBefore('create')).toBe('absent');
    expect(appStateFrom(['paused'])).toBe('not-running');
    expect(appStateFrom(['paused', 'running'])).toBe('running');
    expect(appStateFrom(['stopped', 'unknown'])).toBe('unknown');
    expect(appStateFrom([])).toBeUndefined();
  });
});

describe('computeRun', () => {
  it('first run: current state of every app, at T', () => {
    const out = computeRun({
      facility: F,
      t0: null,
      snapshot: {},
      events: [],
      covered: false,
      T: at(5),
      unreachableSince: null,
      containers: [
        { id: 'a', app: 'x--u', state: 'running' },
        { id: 'b', app: 'y--u', state: 'paused' },
      ],
    });
    expect(out.transitions).toEqual([
      { app: 'x--u', at: at(5), state: 'running', source: 'first-run' },
      { app: 'y--u', at: at(5), state: 'not-running', source: 'first-run' },
    ]);
    expect(out.samples).toEqual([
      { app: 'x--u', state: 'running' },
      { app: 'y--u', state: 'not-running' },
    ]);
  });

  it('covered window: every change at its exact event time; no-op actions and older events ignored', () => {
    const out = run({
      snapshot: { a: { app: 'x--u', state: 'running' } },
      events: [
        ev('start', 'a', 'x--u', at(0)), // the anchor, already consumed
        ev('kill', 'a', 'x--u', at(10, 1)),
        ev('die', 'a', 'x--u', at(10, 2)),
        ev('stop', 'a', 'x--u', at(10, 3)),
        ev('start', 'a', 'x--u', at(15, 4)),
        ev('pause', 'a', 'x--u', at(20)),
        ev('unpause', 'a', 'x--u', at(25)),
        ev('start', 'z', 'other--u', at(26), 'another-facility'),
      ],
      containers: [{ id: 'a', app: 'x--u', state: 'running' }],
    });
    expect(out.transitions.map((t) => [t.at - base, t.state, t.source, t.action])).toEqual([
      [at(10, 2) - base, 'not-running', 'event', 'die'],
      [at(15, 4) - base, 'running', 'event', 'start'],
      [at(20) - base, 'not-running', 'event', 'pause'],
      [at(25) - base, 'running', 'event', 'unpause'],
    ]);
    expect(out.samples).toEqual([{ app: 'x--u', state: 'running' }]);
    expect(out.gapEnd).toBeUndefined();
  });

  it('hard reset: the app runs while either container runs; create of the replacement is no change', () => {
    const out = run({
      snapshot: { old: { app: 'x--u', state: 'running' } },
      events: [
        ev('create', 'new', 'x--u', at(10)),
        ev('kill', 'old', 'x--u', at(11)),
        ev('die', 'old', 'x--u', at(12)),
        ev('destroy', 'old', 'x--u', at(13)),
        ev('rename', 'new', 'x--u', at(14)),
        ev('start', 'new', 'x--u', at(15)),
      ],
      containers: [{ id: 'new', app: 'x--u', state: 'running' }],
    });
    expect(out.transitions.map((t) => [t.at, t.state])).toEqual([
      [at(12), 'not-running'],
      [at(15), 'running'],
    ]);
    expect(Object.keys(out.snapshot)).toEqual(['new']);
  });

  it('a new app gets not-running at create; a deleted one stays recorded as not running and gets no more samples', () => {
    const out = run({
      snapshot: { a: { app: 'x--u', state: 'running' } },
      events: [ev('create', 'b', 'y--u', at(5)), ev('kill', 'a', 'x--u', at(6)), ev('die', 'a', 'x--u', at(7)), ev('destroy', 'a', 'x--u', at(8))],
      containers: [{ id: 'b', app: 'y--u', state: 'stopped' }],
    });
    expect(out.transitions.map((t) => [t.app, t.at, t.state])).toEqual([
      ['y--u', at(5), 'not-running'],
      ['x--u', at(7), 'not-running'],
    ]);
    expect(out.samples).toEqual([{ app: 'y--u', state: 'not-running' }]);
  });

  it('overflowed window: reconstructed from StartedAt/FinishedAt until the first surviving event', () => {
    const views: ContainerView[] = [
      // stopped at 20 (FinishedAt), nothing else: running until 20, exact
      { id: 'a', app: 'a--u', state: 'stopped', startedAt: at(-100), finishedAt: at(20), created: at(-200) },
      // restarted in the gap: exit at 20, start at 30 -> unknown until 20 (cycles possible), then exact
      { id: 'b', app: 'b--u', state: 'running', startedAt: at(30), finishedAt: at(20), created: at(-200) },
      // created and started in the gap
      { id: 'c', app: 'c--u', state: 'running', startedAt: at(25), finishedAt: null, created: at(24) },
      // unchanged
      { id: 'd', app: 'd--u', state: 'running', startedAt: at(-100), finishedAt: null, created: at(-200) },
    ];
    const out = run({
      covered: false,
      snapshot: { a: { app: 'a--u', state: 'running' }, b: { app: 'b--u', state: 'running' }, d: { app: 'd--u', state: 'running' } },
      events: [ev('pause', 'd', 'd--u', at(40)), ev('unpause', 'd', 'd--u', at(41))],
      containers: views,
    });
    expect(out.gapEnd).toBe(at(40));
    expect(out.transitions.map((t) => [t.app, t.at, t.state, t.source, t.action])).toEqual([
      ['b--u', at(0) + 1n, 'unknown', 'reconcile', 'gap'],
      ['a--u', at(20), 'not-running', 'reconcile', 'FinishedAt'],
      ['b--u', at(20), 'not-running', 'reconcile', 'FinishedAt'],
      ['c--u', at(24), 'not-running', 'reconcile', 'Created'],
      ['c--u', at(25), 'running', 'reconcile', 'StartedAt'],
      ['b--u', at(30), 'running', 'reconcile', 'StartedAt'],
      ['d--u', at(40), 'not-running', 'event', 'pause'],
      ['d--u', at(41), 'running', 'event', 'unpause'],
    ]);
  });

  it('a pause that no time dates makes the span unknown, never up or down', () => {
    const out = run({
      covered: false,
      snapshot: { a: { app: 'a--u', state: 'running' } },
      containers: [{ id: 'a', app: 'a--u', state: 'paused', startedAt: at(-100), finishedAt: null, created: at(-200) }],
    });
    expect(out.transitions.map((t) => [t.at, t.state])).toEqual([
      [at(0) + 1n, 'unknown'],
      [at(60), 'not-running'],
    ]);
  });

  it('engine restart while unreachable: exact exit, then unknown from the failed run until the Engine answers', () => {
    const out = run({
      covered: false,
      T: at(100),
      unreachableSince: at(30),
      snapshot: { a: { app: 'a--u', state: 'running' }, b: { app: 'b--u', state: 'stopped' } },
      containers: [
        { id: 'a', app: 'a--u', state: 'stopped', startedAt: at(-100), finishedAt: at(20), created: at(-200) },
        { id: 'b', app: 'b--u', state: 'stopped', startedAt: at(-100), finishedAt: at(-50), created: at(-200) },
      ],
      events: [ev('start', 'a', 'a--u', at(90))],
    });
    expect(out.transitions.map((t) => [t.app, t.at, t.state, t.source])).toEqual([
      ['a--u', at(20), 'not-running', 'reconcile'],
      ['a--u', at(30), 'unknown', 'unreachable'],
      ['b--u', at(30), 'unknown', 'unreachable'],
      ['b--u', at(90), 'not-running', 'reconcile'],
      ['a--u', at(90), 'running', 'event'],
    ]);
  });

  it('a container that vanished in a lost span is unknown from the checkpoint, then gone', () => {
    const out = run({ covered: false, snapshot: { a: { app: 'a--u', state: 'stopped' } }, containers: [] });
    expect(out.transitions.map((t) => [t.at, t.state])).toEqual([
      [at(0) + 1n, 'unknown'],
      [at(60), 'not-running'],
    ]);
    expect(out.samples).toEqual([]);
  });
});

describe('reconstructContainer', () => {
  const v = (x: Partial<ContainerView>): ContainerView => ({ id: 'a', app: 'a--u', state: 'running', created: at(-200), startedAt: at(-100), finishedAt: null, ...x });
  it('keeps the state when nothing happened', () => {
    expect(reconstructContainer(at(0), at(60), 'running', 'running', v({}))).toEqual([]);
  });
  it('a start alone: not running before it, running from it', () => {
    expect(reconstructContainer(at(0), at(60), 'stopped', 'running', v({ startedAt: at(10), finishedAt: at(-5) }))).toEqual([{ at: at(10), state: 'running', why: 'StartedAt' }]);
  });
  it('a start while we thought it ran: unknown until the start', () => {
    expect(reconstructContainer(at(0), at(60), 'running', 'running', v({ startedAt: at(10), finishedAt: at(-5) })).map((p) => p.state)).toEqual(['unknown', 'running']);
  });
  it('created, started and stopped inside the span', () => {
    expect(reconstructContainer(at(0), at(60), 'absent', 'stopped', v({ state: 'stopped', created: at(5), startedAt: at(10), finishedAt: at(20) })).map((p) => [p.at, p.state])).toEqual([
      // earlier start/stop cycles between its creation and its last start are possible
      [at(5), 'unknown'],
      [at(10), 'running'],
      [at(20), 'stopped'],
    ]);
  });
});

describe('computeRun after an Engine restart', () => {
  it('a start whose event survived is exact, not reconstructed from StartedAt (which precedes the event)', () => {
    const out = run({
      covered: false,
      snapshot: { a: { app: 'a--u', state: 'stopped' } },
      events: [ev('start', 'a', 'a--u', at(30, 500))],
      containers: [{ id: 'a', app: 'a--u', state: 'running', startedAt: at(30, 100), finishedAt: at(-5), created: at(-200) }],
    });
    expect(out.transitions.map((t) => [t.at, t.state, t.source])).toEqual([[at(30, 500), 'running', 'event']]);
  });
});

describe('computeSwarmRun', () => {
  const svc = (id: string, app: string, tasks: [string, bigint][], createdAt = at(-100)) => ({ id, app, createdAt, tasks: tasks.map(([state, t]) => ({ state, at: t })) });
  it('first run: running when any task runs', () => {
    const out = computeSwarmRun({
      t0: null,
      snapshot: {},
      T: at(5),
      unreachableSince: null,
      services: [
        svc('s1', 'a--u', [
          ['running', at(1)],
          ['shutdown', at(0)],
        ]),
        svc('s2', 'b--u', [['complete', at(2)]]),
      ],
    });
    expect(out.transitions.map((t) => [t.app, t.state, t.source])).toEqual([
      ['a--u', 'running', 'first-run'],
      ['b--u', 'not-running', 'first-run'],
    ]);
  });
  it('changes are dated by the tasks’ own timestamps; new and removed services', () => {
    const out = computeSwarmRun({
      t0: at(0),
      T: at(60),
      unreachableSince: null,
      snapshot: { 'service:s1': { app: 'a--u', state: 'running' }, 'service:s2': { app: 'b--u', state: 'stopped' }, 'service:s3': { app: 'c--u', state: 'running' } },
      services: [
        svc('s1', 'a--u', [
          ['shutdown', at(20)],
          ['shutdown', at(-50)],
        ]),
        svc('s2', 'b--u', [
          ['running', at(30)],
          ['running', at(31)],
        ]),
        svc('s4', 'd--u', [['running', at(45)]], at(40)),
      ],
    });
    expect(out.transitions.map((t) => [t.app, t.at, t.state, t.action])).toEqual([
      ['c--u', at(0) + 1n, 'unknown', 'service-removed'],
      ['a--u', at(20), 'not-running', 'task-stopped'],
      ['b--u', at(30), 'running', 'task-running'],
      ['d--u', at(40), 'not-running', 'service-created'],
      ['d--u', at(45), 'running', 'task-running'],
      ['c--u', at(60), 'not-running', 'service-removed'],
    ]);
    expect(out.samples.map((s) => s.app)).toEqual(['a--u', 'b--u', 'd--u']);
  });
  it('a stop whose task swarm already deleted (scale to 0): dated by the service update, else unknown until T', () => {
    const was = (...ids: string[]) => Object.fromEntries(ids.map((id) => [`service:${id}`, { app: `${id}--u`, state: 'running' as const }]));
    const out = computeSwarmRun({
      t0: at(0),
      T: at(60),
      unreachableSince: null,
      snapshot: was('a', 'b', 'c', 'd'),
      services: [
        { ...svc('a', 'a--u', []), updatedAt: at(25) }, // task reaped: the update dates the stop
        { ...svc('b', 'b--u', [['shutdown', at(-50)]]), updatedAt: at(-10) }, // nothing in the window dates it
        { ...svc('c', 'c--u', [['shutdown', at(27)]]), updatedAt: at(25) }, // the task's own time wins
        { ...svc('d', 'd--u', [['shutdown', at(61)]]), updatedAt: at(-10) }, // stopped as the job looked
      ],
    });
    expect(out.transitions.map((t) => [t.app, t.at, t.state, t.action])).toEqual([
      ['b--u', at(0) + 1n, 'unknown', 'stop-undated'],
      ['a--u', at(25), 'not-running', 'service-updated'],
      ['c--u', at(27), 'not-running', 'task-stopped'],
      ['b--u', at(60), 'not-running', 'stop-undated'],
      ['d--u', at(60), 'not-running', 'task-stopped'],
    ]);
  });
  it('a task on a node that went Down is unknown from the node’s change until it runs again', () => {
    const down = computeSwarmRun({
      t0: at(0),
      T: at(60),
      unreachableSince: null,
      snapshot: { 'service:s1': { app: 'a--u', state: 'running' } },
      services: [{ ...svc('s1', 'a--u', []), tasks: [{ state: 'unknown', at: at(-30), nodeChangedAt: at(13) }] }],
    });
    expect(down.transitions.map((t) => [t.at, t.state, t.action])).toEqual([[at(13), 'unknown', 'node-down']]);
    expect(down.snapshot['service:s1'].state).toBe('unknown');
    const back = computeSwarmRun({
      t0: at(60),
      T: at(120),
      unreachableSince: null,
      snapshot: down.snapshot,
      services: [{ ...svc('s1', 'a--u', []), tasks: [{ state: 'running', at: at(-30), nodeChangedAt: at(95) }] }],
    });
    expect(back.transitions.map((t) => [t.at, t.state, t.action])).toEqual([[at(95), 'running', 'task-running']]);
  });
  it('a job that ran and ended between two runs is recorded from its task’s CreatedAt to its Status.Timestamp', () => {
    const out = computeSwarmRun({
      t0: at(0),
      T: at(60),
      unreachableSince: null,
      snapshot: { 'service:s0': { app: 'old--u', state: 'stopped' } },
      services: [
        { ...svc('s1', 'a--u', [], at(10)), tasks: [{ state: 'complete', at: at(14), startedAt: at(11) }] },
        {
          ...svc('s0', 'old--u', []),
          tasks: [
            { state: 'complete', at: at(40), startedAt: at(30) },
            { state: 'complete', at: at(-40), startedAt: at(-45) },
          ],
        },
        { ...svc('s2', 'b--u', [], at(20)), tasks: [{ state: 'rejected', at: at(21), startedAt: null }] },
      ],
    });
    expect(out.transitions.map((t) => [t.app, t.at, t.state, t.action])).toEqual([
      ['a--u', at(10), 'not-running', 'service-created'],
      ['a--u', at(11), 'running', 'task-ran'],
      ['a--u', at(14), 'not-running', 'task-ended'],
      ['b--u', at(20), 'not-running', 'service-created'],
      ['old--u', at(30), 'running', 'task-ran'],
      ['old--u', at(40), 'not-running', 'task-ended'],
    ]);
  });
  it('unknown while the manager could not be reached', () => {
    const out = computeSwarmRun({
      t0: at(0),
      T: at(60),
      unreachableSince: at(20),
      snapshot: { 'service:s1': { app: 'a--u', state: 'running' } },
      services: [svc('s1', 'a--u', [['running', at(50)]])],
    });
    expect(out.transitions.map((t) => [t.at, t.state, t.source])).toEqual([
      [at(20), 'unknown', 'unreachable'],
      [at(60), 'running', 'reconcile'],
    ]);
  });
});
