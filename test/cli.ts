/**
 * The docker CLI as a test oracle (v28 at /usr/local/bin/docker: it has `--format json`).
 * Tests only; run-time code never runs the CLI.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const DOCKER_CLI = '/usr/local/bin/docker';

/** Runs the CLI and parses its one-JSON-object-per-line output. */
export async function cliJsonLines(args: string[], env: NodeJS.ProcessEnv = {}): Promise<any[]> {
  const { stdout } = await run(DOCKER_CLI, args, { env: { ...process.env, ...env }, maxBuffer: 16 << 20 });
  return stdout
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
}

/**
 * Whether a relative time the CLI printed ("Up 5 seconds", "Exited (3) 2 minutes ago",
 * "7 seconds ago") lies between ours taken just before and just after the CLI ran: equal to
 * one of them, or of the same shape with every number between theirs (only the clock moved).
 * @example betweenInTime('Up 6 seconds', 'Up 5 seconds', 'Up 7 seconds') // true
 */
export function betweenInTime(want: string, before: string, after: string): boolean {
  if (want === before || want === after) return true;
  const shape = (s: string) => s.replace(/\d+/g, '#');
  const nums = (s: string) => (s.match(/\d+/g) ?? []).map(Number);
  const [w, b, a] = [nums(want), nums(before), nums(after)];
  const sameAsBefore = shape(want) === shape(before);
  const sameAsAfter = shape(want) === shape(after);
  if (!sameAsBefore && !sameAsAfter) return false;
  return w.every((x, i) => (!sameAsBefore || x >= b[i]) && (!sameAsAfter || x <= a[i]));
}
