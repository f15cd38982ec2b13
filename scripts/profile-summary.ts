/**
 * `npx tsx scripts/profile-summary.ts FILE.cpuprofile [TOP]`: the functions with the most self
 * time in a V8 CPU profile (`node --cpu-prof`), as a markdown table: self ms, share of the
 * sampled time, function and `file:line` (paths relative to the working directory). Idle and
 * garbage-collector time are listed like functions (`(idle)`, `(garbage collector)`).
 * A function in an esbuild bundle that is still on disk (the runner's dist/runner.mjs, a
 * function's bundle) is named with its source module too: the `// core/x.ts` (or
 * `// node_modules/…`) comment esbuild writes before each module's code, e.g.
 * `json core/http.ts (runner.mjs:5039)`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
const [file, topArg] = process.argv.slice(2);
if (!file) throw new Error('usage: profile-summary.ts FILE.cpuprofile [TOP]');
const prof = JSON.parse(readFileSync(file, 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
const byId = new Map(prof.nodes.map((n) => [n.id, n]));

/** Per bundle file: the line (0-based) where each module of the bundle starts, and its path. */
const modules = new Map<string, { line: number; path: string }[] | null>();
/** The source module of `line` (0-based) in the bundle at `url`, when the bundle is on disk. */
function sourceOf(url: string, line: number): string | undefined {
  if (!url.startsWith('file://') || !/\.m?js$/.test(url)) return undefined;
  let starts = modules.get(url);
  if (starts === undefined) {
    const path = fileURLToPath(url);
    starts = existsSync(path)
      ? readFileSync(path, 'utf8')
          .split('\n')
          .flatMap((text, i) => {
            const m = /^\/\/ (\S+\.(?:tsx?|m?js|cjs))$/.exec(text);
            return m ? [{ line: i, path: m[1] }] : [];
          })
      : null;
    modules.set(url, starts);
  }
  let found: string | undefined;
  for (const s of starts ?? []) if (s.line <= line) found = s.path;
  return found;
}
const self = new Map<string, number>();
let total = 0;
prof.samples.forEach((id, i) => {
  const n = byId.get(id)!;
  const cwd = `file://${process.cwd()}/`;
  const at = `${n.callFrame.url.replace(cwd, '')}:${n.callFrame.lineNumber + 1}`;
  const source = sourceOf(n.callFrame.url, n.callFrame.lineNumber);
  const where = n.callFrame.url ? (source ? ` ${source} (${at.replace(/^.*\//, '')})` : ` ${at}`) : '';
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
