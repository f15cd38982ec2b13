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
