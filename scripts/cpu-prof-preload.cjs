/**
 * `NODE_OPTIONS=--require=scripts/cpu-prof-preload.cjs SRC_CPU_PROF_DIR=DIR`: a CPU profile of
 * the whole process, written to DIR/<pid>.cpuprofile when it exits (for processes that take
 * their flags from NODE_OPTIONS, where `--cpu-prof` is not allowed: the bench's bundles).
 */
const { Session } = require('node:inspector');
const { mkdirSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const dir = process.env.SRC_CPU_PROF_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.start');
  process.on('exit', () => {
    // a session of this thread answers synchronously, so this works in an exit handler
    session.post('Profiler.stop', (err, res) => {
      if (err) return;
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `${process.pid}.cpuprofile`), JSON.stringify(res.profile));
    });
  });
}
