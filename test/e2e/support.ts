/**
 * End-to-end helpers: build the bundles into a directory of the test's own (test files run in
 * parallel and must not share dist/), and call a deployment over real HTTP the way
 * test/helpers.ts `call()` calls the runner in-process.
 */
import { afterAll, afterEach } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildFunctions, type BuiltFunction } from '../../scripts/build.ts';
import type { LocalDeployment } from '../../scripts/local-deploy.ts';
import { callWith, removeUserApps, type Answer, type CallInit } from '../helpers.ts';

/** Builds every function (or the `only` ones) into a fresh temporary directory. */
export async function buildForTest(only?: string[]): Promise<{ dist: string; functions: BuiltFunction[] }> {
  const dist = mkdtempSync(join(tmpdir(), 'src-e2e-build-'));
  const functions = await buildFunctions({ outdir: dist, quiet: true, only });
  return { dist, functions };
}

/**
 * Registers the file's teardown: on a failed test, the deployment's diagnostics; after the
 * file, `user`'s apps removed, the deployment stopped and its build deleted.
 * @param state what the file's `beforeAll` set up (read when the hooks run)
 */
export function useTeardown(user: string, state: () => { d?: LocalDeployment; dist?: string }): void {
  afterEach((ctx) => {
    const { d } = state();
    if (ctx.task.result?.state === 'fail' && d) console.error(d.diagnostics());
  });
  afterAll(async () => {
    const { d, dist } = state();
    await removeUserApps(user);
    await d?.stop();
    if (dist) rmSync(dist, { recursive: true, force: true });
  }, 60_000);
}

/**
 * `call()` over HTTP against `base` (a proxy or one function process): as the suite's admin
 * unless `init.token` says otherwise (`null`: no Authorization header).
 */
export function httpCall(base: string, method: string, path: string, init: CallInit = {}): Promise<Answer> {
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
