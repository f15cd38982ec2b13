/**
 * The narrowest Deno permissions a function bundle runs with, derived from what it touches:
 *
 *   --allow-env=<names>    `SRC_*` (the API's own settings, some named at run time) and exactly
 *                          the other variables the bundle reads by name (from the build
 *                          manifest: DOCKER_* read by docker-modem, SSH_AUTH_SOCK, and switches
 *                          its dependencies probe at load time: READABLE_STREAM, WS_NO_*)
 *   --allow-read=<files>   the facility file, each Unix-socket Engine and its TLS PEM files,
 *                          the identity passwd/group files
 *   --allow-write=<socket> each Unix-socket Engine (Deno checks read+write to connect to one)
 *   --allow-net=<hosts>    the libSQL server (SRC_DB_URL), each LDAP identity server, `unix:<socket>` / `host:port` of each
 *                          Engine; `deno serve` adds its own listen address itself
 *
 * Nothing else: no --allow-sys, --allow-ffi, --allow-run, no write outside the sockets, no other
 * host. (Bundles use the web libSQL client: no native addon, so no --allow-ffi/--allow-sys.)
 * Not covered: a deployment without `SRC_ADMIN_TOKEN` and without any admin token in the
 * database, where the first process would write `<dataDir>/admin-token`: mint one first.
 *
 *   npx tsx scripts/deno-flags.ts --config /etc/src-api/facilities.json --db http://127.0.0.1:8081 [--function get-users] [--read DIR]
 *
 * `--read DIR` adds a path to read: a scheduled job run once with
 * `deno run <flags> --read dist dist/serve-function.mjs --once dist/functions/uptime-job.js`
 * imports its bundle at run time, which Deno checks (`deno serve` of a bundle needs no read).
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseConfig } from '../core/config.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** What the permissions are derived from. */
export interface DenoPermissionInput {
  /** Environment variable names the bundle reads (manifest `env`). */
  env: string[];
  /** Absolute path of the facility file (`SRC_CONFIG`). */
  configPath: string;
  /** `SRC_DB_URL`: an http(s):// or ws(s):// libSQL server (bundles cannot open `file:`). */
  dbUrl: string;
  /** `DOCKER_HOST` for facilities that name no Engine (default the local socket). */
  dockerHost?: string;
  /** More files or directories to read, e.g. the dist/ directory for `deno run serve-function.mjs`. */
  extraRead?: string[];
}

function hostPort(url: URL, defaultPort: number): string {
  return `${url.hostname.includes(':') ? `[${url.hostname}]` : url.hostname}:${url.port || defaultPort}`;
}

/**
 * The permission flags for `deno serve` / `deno run` of one bundle.
 * @throws Error for a `file:` database or an `ssh://` Engine (neither works in a bundle)
 */
export function denoPermissionFlags(input: DenoPermissionInput): string[] {
  const read = new Set<string>([resolve(input.configPath), ...(input.extraRead ?? []).map((p) => resolve(p))]);
  const write = new Set<string>();
  const net = new Set<string>();
  const extraEnv = new Set<string>();

  const db = new URL(input.dbUrl);
  if (db.protocol === 'file:') throw new Error('SRC_DB_URL: function bundles need a libSQL server (http:// or ws://), not a file: database');
  net.add(hostPort(db, ['https:', 'wss:', 'libsql:'].includes(db.protocol) ? 443 : 80));

  const saved = process.env.DOCKER_HOST;
  if (input.dockerHost !== undefined) process.env.DOCKER_HOST = input.dockerHost;
  try {
    const config = parseConfig(JSON.parse(readFileSync(input.configPath, 'utf8')), input.configPath);
    for (const f of Object.values(config.facilities)) {
      const host = f.engine.host;
      if (host.startsWith('unix://')) {
        const sock = host.slice('unix://'.length);
        read.add(sock);
        write.add(sock);
        net.add(`unix:${sock}`);
      } else if (host.startsWith('ssh://')) {
        throw new Error(`facility ${f.id}: ssh:// Engines are not supported by the bundles (see scripts/build/ssh2-stub.ts)`);
      } else {
        const u = new URL(host.replace(/^tcp:/, f.engine.tls ? 'https:' : 'http:'));
        net.add(hostPort(u, f.engine.tls ? 2376 : 2375));
        for (const pem of [f.engine.tls?.ca, f.engine.tls?.cert, f.engine.tls?.key]) if (pem) read.add(resolve(pem));
      }
      // identity sources (core/user-identity.ts): the passwd/group files, the LDAP server
      const id = f.policy.identity;
      for (const file of [id.files?.passwd, id.files?.group]) if (file) read.add(resolve(file));
      if (id.ldap) net.add(hostPort(new URL(id.ldap.url), id.ldap.url.startsWith('ldaps:') ? 636 : 389));
      if (id.ldap?.bindPasswordEnv) extraEnv.add(id.ldap.bindPasswordEnv);
    }
  } finally {
    if (input.dockerHost !== undefined) {
      if (saved === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = saved;
    }
  }

  // The API's own settings as one wildcard (core code also builds SRC_* names at run time, e.g.
  // SRC_UPTIME_RETENTION_DAYS); everything else by exact name.
  const env = ['SRC_*', ...[...new Set([...input.env, ...extraEnv])].filter((n) => !n.startsWith('SRC_')).sort()];
  const flags = [`--allow-env=${env.join(',')}`, `--allow-read=${[...read].join(',')}`];
  if (write.size) flags.push(`--allow-write=${[...write].join(',')}`);
  flags.push(`--allow-net=${[...net].join(',')}`);
  return flags;
}

/** The `env` list of one function (or the union over all) from a build manifest. */
export function manifestEnv(manifestFile: string, fn?: string): string[] {
  const m = JSON.parse(readFileSync(manifestFile, 'utf8')) as { functions: { name: string; env: string[] }[] };
  const fns = fn ? m.functions.filter((f) => f.name === fn) : m.functions;
  if (fn && fns.length === 0) throw new Error(`${manifestFile}: no function ${fn}`);
  return [...new Set(fns.flatMap((f) => f.env))].sort();
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      config: { type: 'string' },
      db: { type: 'string' },
      function: { type: 'string' },
      manifest: { type: 'string', default: join(ROOT, 'dist', 'functions', 'manifest.json') },
      read: { type: 'string', multiple: true },
    },
  });
  try {
    const configPath = values.config ?? process.env.SRC_CONFIG;
    const dbUrl = values.db ?? process.env.SRC_DB_URL;
    if (!configPath || !dbUrl) throw new Error('give --config FILE (or SRC_CONFIG) and --db URL (or SRC_DB_URL); run `npm run build` first');
    console.log(denoPermissionFlags({ env: manifestEnv(values.manifest!, values.function), configPath, dbUrl, extraRead: values.read }).join(' '));
  } catch (e) {
    console.error(`deno-flags: ${(e as Error).message}`);
    process.exit(1);
  }
}
