/**
 * End-to-end helpers: build the bundles into a directory of the test's own (test files run in
 * parallel and must not share dist/), and call a deployment over real HTTP the way
 * test/helpers.ts `call()` calls the runner in-process.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildFunctions, type BuiltFunction } from '../../scripts/build.ts';
import { callWith, type Answer } from '../helpers.ts';

/** Builds every function into a fresh temporary directory. */
export async function buildForTest(): Promise<{ dist: string; functions: BuiltFunction[] }> {
  const dist = mkdtempSync(join(tmpdir(), 'src-e2e-build-'));
  const functions = await buildFunctions({ outdir: dist, quiet: true });
  return { dist, functions };
}

/**
 * `call()` over HTTP against `base` (a proxy or one function process): as the suite's admin
 * unless `init.token` says otherwise (`null`: no Authorization header).
 */
export function httpCall(base: string, method: string, path: string, init: RequestInit & { token?: string | null } = {}): Promise<Answer> {
  return callWith((req) => fetch(req), base, method, path, init);
}

/** Runs the token CLI (scripts/token.ts) against a libSQL server; returns its stdout. */
export function tokenCli(dbUrl: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', 'scripts/token.ts', ...args], {
      env: { ...process.env, SRC_DB_URL: dbUrl },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`token ${args.join(' ')}: exit ${code}: ${err}`))));
  });
}
