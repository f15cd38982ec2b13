/**
 * Fail fast and quietly (issue 12): a route bundle without a usable database refuses to start;
 * CLI errors (token, a taken port, a bad config) print one clear line and no stack trace; the
 * first admin token goes only to its 0600 file, and only its path is printed.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildForTest } from './e2e/support.ts';
import { denoBinary } from '../scripts/local-deploy.ts';

const ROOT = resolve(import.meta.dirname, '..');
const TSX = join(ROOT, 'node_modules/.bin/tsx');
let dist: string;
const tmp = mkdtempSync(join(tmpdir(), 'src-failfast-'));

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end (at most `ms`), with `env` over a copy of ours without SRC_DB_URL. */
function run(cmd: string, args: string[], env: Record<string, string | undefined>, ms = 30_000): Promise<Ran> {
  return new Promise((done) => {
    const base = { ...process.env };
    delete base.SRC_DB_URL;
    const child = execFile(cmd, args, { cwd: ROOT, env: { ...base, ...env } as NodeJS.ProcessEnv, timeout: ms }, (_e, stdout, stderr) => {
      done({ code: child.exitCode, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** One line on stderr, no stack frame. */
function expectOneLine(r: Ran, pattern: RegExp): void {
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/^\s+at /m);
}

beforeAll(async () => {
  ({ dist } = await buildForTest(['get-users', 'outline']));
  writeFileSync(join(tmp, 'typo.json'), JSON.stringify({ facilities: { demo: { mode: 'solo', polcy: {} } } }));
}, 120_000);

afterAll(() => {
  rmSync(dist, { recursive: true, force: true });
  rmSync(tmp, { recursive: true, force: true });
});

describe('a route bundle needs a usable database', () => {
  it('without SRC_DB_URL it exits 2 with one line naming SRC_DB_URL, and never listens', async () => {
    const r = await run(process.execPath, [join(dist, 'serve-function.mjs'), join(dist, 'functions/get-users.js')], { PORT: '0' });
    expect(r.code).toBe(2);
    expect(r.stdout).not.toMatch(/listening/);
    expectOneLine(r, /not starting: SRC_DB_URL is not set/);
  });

  it('under deno serve too: without SRC_DB_URL the bundle exits 2 with one line and never listens', async () => {
    const port = String(20000 + Math.floor(Math.random() * 20000));
    const r = await run(denoBinary(), ['serve', '--no-prompt', '--no-config', '--quiet', '-A', '--port', port, join(dist, 'functions/get-users.js')], { NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1' });
    expect(r.code).toBe(2);
    expect(r.stdout + r.stderr).not.toMatch(/Listening/);
    expectOneLine(r, /get-users: not starting: SRC_DB_URL is not set/);
  });

  it('with an SRC_DB_URL nobody answers, it exits 2 naming the database', async () => {
    const r = await run(process.execPath, [join(dist, 'serve-function.mjs'), join(dist, 'functions/get-users.js')], { PORT: '0', SRC_DB_URL: 'http://127.0.0.1:9' });
    expect(r.code).toBe(2);
    expect(r.stdout).not.toMatch(/listening/);
    expectOneLine(r, /not starting: The database http:\/\/127\.0\.0\.1:9 cannot be used/);
  });

  it('an invalid configuration stops the bundle with the config error on one line', async () => {
    const r = await run(process.execPath, [join(dist, 'serve-function.mjs'), join(dist, 'functions/get-users.js')], { PORT: '0', SRC_CONFIG: join(tmp, 'typo.json') });
    expect(r.code).toBe(2);
    expectOneLine(r, /facilities\.demo\.polcy: unknown setting/);
  });
});

describe('CLI errors: one line, no stack trace', () => {
  it('npm run token with a config typo', async () => {
    const r = await run(TSX, ['scripts/token.ts', 'list'], { SRC_CONFIG: join(tmp, 'typo.json') });
    expect(r.code).toBe(2);
    expectOneLine(r, /^token: Invalid configuration in .*typo\.json: facilities\.demo\.polcy: unknown setting/);
  });

  it('npm run uptime-job with a config typo', async () => {
    const r = await run(TSX, ['scripts/uptime-job.ts'], { SRC_CONFIG: join(tmp, 'typo.json') });
    expect(r.code).toBe(2);
    expectOneLine(r, /^uptime-job: Invalid configuration in .*typo\.json: facilities\.demo\.polcy: unknown setting/);
  });

  it('npm run token with a missing argument', async () => {
    const bad = await run(TSX, ['scripts/token.ts', 'revoke'], { SRC_DATA_DIR: join(tmp, 'tok') });
    expect(bad.code).toBe(2);
    expectOneLine(bad, /^token: revoke needs a token id/);
  });

  it('the runner on a taken port (EADDRINUSE), and with a config typo', async () => {
    const taken: Server = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = String((taken.address() as { port: number }).port);
    try {
      const r = await run(TSX, ['wrangler-local/main.ts'], { PORT: port, SRC_DATA_DIR: join(tmp, 'runner'), SRC_UPTIME_CRON: 'off' });
      expect(r.code).toBe(2);
      expectOneLine(r, new RegExp(`not starting: 127\\.0\\.0\\.1:${port} is already in use`));
    } finally {
      taken.close();
    }
    const typo = await run(TSX, ['wrangler-local/main.ts'], { PORT: '0', SRC_CONFIG: join(tmp, 'typo.json') });
    expect(typo.code).toBe(2);
    expectOneLine(typo, /not starting: Invalid configuration .*polcy: unknown setting/);
  });
});

describe('the first admin token', () => {
  it('goes only to its 0600 file; standard output names the file, never the token', async () => {
    const data = join(tmp, 'first');
    const child = spawn(TSX, ['wrangler-local/main.ts'], {
      cwd: ROOT,
      env: { ...process.env, SRC_ADMIN_TOKEN: '', SRC_DB_URL: '', SRC_DATA_DIR: data, PORT: '0', SRC_UPTIME_CRON: 'off' },
    });
    let out = '';
    child.stdout.on('data', (b) => (out += b));
    child.stderr.on('data', (b) => (out += b));
    await new Promise<void>((r, j) => {
      const t = setTimeout(() => j(new Error(`runner did not start: ${out}`)), 60_000);
      child.stdout.on('data', () => {
        if (/listening/.test(out)) clearTimeout(t), r();
      });
    });
    child.kill('SIGTERM');
    const file = join(data, 'admin-token');
    const token = readFileSync(file, 'utf8').trim();
    expect(token).toMatch(/^src_[a-z0-9]{12}_/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(out).toContain(file);
    expect(out).not.toContain(token);
    expect(out).not.toContain(token.slice(0, 17)); // not even the id part's prefix with the secret
  }, 90_000);
});
