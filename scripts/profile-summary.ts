/**
 * `npx tsx scripts/profile-summary.ts FILE.cpuprofile [TOP]`: the functions with the most self
 * time in a V8 CPU profile (`node --cpu-prof`), as a markdown table: self ms, share of the
 * sampled time, function and `file:line` (paths relative to the working directory). Idle and
 * garbage-collector time are listed like functions (`(idle)`, `(garbage collector)`).
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
const [file, topArg] = process.argv.slice(2);
if (!file) throw new Error('usage: profile-summary.ts FILE.cpuprofile [TOP]');
const prof = JSON.parse(readFileSync(file, 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const self = new Map<string, number>();
let total = 0;
prof.samples.forEach((id, i) => {
  const n = byId.get(id)!;
  const cwd = `file://${process.cwd()}/`;
  const where = n.callFrame.url ? ` ${n.callFrame.url.replace(cwd, '')}:${n.callFrame.lineNumber + 1}` : '';
  const key = `${n.callFrame.functionName || '(anonymous)'}${where}`;
  const dt = (prof.timeDeltas[i] ?? 0) / 1000;
  total += dt;
  self.set(key, (self.get(key) ?? 0) + dt);
});
const busy = total - (self.get('(idle)') ?? 0);
console.log(`sampled ${total.toFixed(0)} ms, busy (not idle) ${busy.toFixed(0)} ms\n`);
console.log('| self ms | % of busy | function |');
console.log('|---|---|---|');
for (const [k, ms] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(topArg ?? 30))) {
  console.log(`| ${ms.toFixed(1)} | ${k === '(idle)' ? '-' : ((ms / busy) * 100).toFixed(1)} | \`${k}\` |`);
}
