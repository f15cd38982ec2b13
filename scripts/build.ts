/**
 * `npm run build`: one self-contained ESM bundle per function, for deployment behind a reverse
 * proxy (see README, "Deployment").
 *
 *   dist/functions/<name>.js      every functions/*.ts except index.ts, `export default { fetch }`
 *                                 (plus `scheduled` when the function has one)
 *   dist/functions/manifest.json  name, route, method, access, scheduled, env names, size of each bundle
 *   dist/serve-function.mjs       the functions' Node host (scripts/serve-function.ts, bundled)
 *   dist/serve-gateway.mjs        the app gateway's own host (scripts/serve-gateway.ts, bundled; Node)
 *   dist/runner.mjs               only with `--runner`: the local runner (wrangler-local/main.ts), what
 *                                 `npm start` runs; its packages stay in node_modules (see {@link buildRunner})
 *
 * Functions are discovered from the directory, so a new functions/<route>.ts is bundled
 * without touching this script. Each bundle runs with no node_modules present, on Node 20
 * (`node dist/serve-function.mjs dist/functions/<name>.js`) and Deno 2 (`deno serve`).
 *
 * What makes them self-contained (facts in ../shared/notes/stack.md):
 * - `ssh2` is aliased to scripts/build/ssh2-stub.ts: docker-modem's optional ssh2 brings native
 *   addons and `__dirname`; bundles therefore lose `ssh://` Engine hosts (the runner keeps them).
 * - `@libsql/client` resolves to `@libsql/client/web`: no native addon, so bundles talk to a
 *   libSQL server (`SRC_DB_URL=http://…`); `file:` URLs only work in the runner.
 * - a banner defines `require` with `createRequire(import.meta.url)` for the CommonJS
 *   dependencies that require Node built-ins (docker-modem needs `querystring`, `http`, …).
 *
 * Options: `--minify`, `--outdir DIR` (default dist), `--only a,b` (some functions), `--quiet`,
 * `--runner` (build only dist/runner.mjs).
 *
 * @module
 */
import { build, type BuildOptions, type Metafile, type Plugin } from 'esbuild';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const FUNCTIONS_DIR = join(ROOT, 'functions');

/** One built function, as recorded in dist/functions/manifest.json. */
export interface BuiltFunction {
  /** File name without `.ts`: functions/<name>.ts -> dist/functions/<name>.js. */
  name: string;
  /** Bundle path relative to the output directory. */
  file: string;
  /** `/{facility}/<route>` for route functions; absent for `outline` (GET /), `openapi` (GET /openapi.json, /docs) and pure jobs. */
  route?: string;
  method?: 'GET' | 'POST';
  access?: string;
  /** Whether the bundle exports `scheduled` (a job to fire on a schedule). */
  scheduled: boolean;
  /** Environment variables the bundle reads by name (for Deno's `--allow-env=`). */
  env: string[];
  bytes: number;
}

/**
 * The environment variables a bundle reads by literal name: `process.env.X`, `process.env['X']`,
 * `env?.X` and core/runtime.ts's `env('X')`. Deno's `--allow-env=` gets exactly these (plus
 * `SRC_*` for names built at run time).
 */
export function envNames(bundleText: string): string[] {
  const names = new Set<string>();
  const patterns = [
    /process\.env\.([A-Za-z_][A-Za-z0-9_]*)/g,
    /process\.env\[\s*["'`]([A-Za-z_][A-Za-z0-9_]*)["'`]\s*\]/g,
    /\benv\?\.\s*([A-Za-z_][A-Za-z0-9_]*)/g,
    /\benv\(\s*["'`]([A-Z_][A-Z0-9_]*)["'`]\s*\)/g,
  ];
  for (const re of patterns) for (const m of bundleText.matchAll(re)) names.add(m[1]);
  return [...names].sort();
}

/** The function files a build picks up: every functions/*.ts except index.ts (and tests). */
export function discoverFunctions(dir = FUNCTIONS_DIR): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.ts') && f !== 'index.ts' && !f.endsWith('.test.ts') && !f.endsWith('.d.ts'))
    .map((f) => f.slice(0, -3))
    .sort();
}

/** The entry module of one bundle: the function's default export, reduced to what hosts call. */
function wrapperSource(name: string): string {
  const fn = JSON.stringify(join(FUNCTIONS_DIR, `${name}.ts`));
  const route = JSON.stringify(join(ROOT, 'core', 'route.ts'));
  const config = JSON.stringify(join(ROOT, 'core', 'config.ts'));
  const store = JSON.stringify(join(ROOT, 'core', 'store.ts'));
  const ops = JSON.stringify(join(ROOT, 'core', 'ops.ts'));
  const log = JSON.stringify(join(ROOT, 'core', 'log.ts'));
  return `
import fn from ${fn};
import { errorResponse, unknownRoute } from ${route};
import { loadConfig } from ${config};
import { checkDatabase } from ${store};
import { healthz, metrics, readyz } from ${ops};
import { setupLogging } from ${log};

// Fail at start-up, with the loader's message, when the configuration (or SRC_LOG_LEVEL) is invalid.
loadConfig();
setupLogging();

const inner = typeof fn?.fetch === 'function'
  ? (req, env, ctx) => fn.fetch(req, env, ctx)
  : (req) => errorResponse(unknownRoute(req.method, new URL(req.url).pathname));
// Every process answers the probes and its own metrics on its own port (the metrics function adds the shared gauges).
const fetch = (req, env, ctx) => {
  const path = new URL(req.url).pathname;
  if (path === '/healthz') return healthz();
  if (path === '/readyz') return readyz();
  if (path === '/metrics' && ${JSON.stringify(name)} !== 'metrics') return metrics(req, { shared: false });
  return inner(req, env, ctx);
};
const scheduled = typeof fn?.scheduled === 'function' ? (controller, env, ctx) => fn.scheduled(controller, env, ctx) : undefined;

// \`deno serve\` loads this module itself (no host of ours runs the preflight): a route or job
// bundle without a usable database refuses to load, with one line, instead of answering 500s.
if ('Deno' in globalThis && (fn?.meta || scheduled) && !globalThis.__srcHostPreflight) {
  try {
    await checkDatabase(true);
  } catch (e) {
    console.error(\`${name}: not starting: \${e?.message ?? e}\`);
    globalThis.Deno.exit(2);
  }
}

export default {
  fetch,
  ...(scheduled ? { scheduled } : {}),
  ...(fn?.meta ? { meta: fn.meta } : {}),
  // routes and jobs keep state in libSQL: the host checks it answers before serving (scripts/serve-function.ts)
  ...(fn?.meta || scheduled ? { preflight: () => checkDatabase(true) } : {}),
  ...(typeof fn?.cron === 'string' ? { cron: fn.cron } : {}),
};
`;
}

/** Resolves the virtual `src-function:<name>` entries. */
function functionsPlugin(): Plugin {
  return {
    name: 'src-functions',
    setup(b) {
      b.onResolve({ filter: /^src-function:/ }, (args) => ({ path: args.path.slice('src-function:'.length), namespace: 'src-function' }));
      b.onLoad({ filter: /.*/, namespace: 'src-function' }, (args) => ({ contents: wrapperSource(args.path), loader: 'ts', resolveDir: ROOT }));
    },
  };
}

/** Exactly `@libsql/client` (not its subpaths) resolves to the web client, without native code. */
function libsqlWebPlugin(): Plugin {
  return {
    name: 'src-libsql-web',
    setup(b) {
      b.onResolve({ filter: /^@libsql\/client$/ }, (args) => b.resolve('@libsql/client/web', { kind: args.kind, resolveDir: args.resolveDir }));
    },
  };
}

const BANNER = ["import { createRequire as __srcCreateRequire } from 'node:module';", 'const require = __srcCreateRequire(import.meta.url);'].join('\n');

/** Reads a function's metadata from its source module (route, method, schedule). */
async function describe(name: string): Promise<Partial<BuiltFunction>> {
  try {
    const mod = await import(pathToFileURL(join(FUNCTIONS_DIR, `${name}.ts`)).href);
    const fn = mod.default ?? {};
    return {
      ...(fn.meta?.route ? { route: fn.meta.route, method: fn.meta.method, access: fn.meta.access } : {}),
      scheduled: typeof fn.scheduled === 'function',
    };
  } catch {
    return {};
  }
}

/** Bundles the functions' Node host (scripts/serve-function.ts, on @hono/node-server) to `<outdir>/serve-function.mjs`. */
async function buildFunctionHost(outdir: string, minify: boolean): Promise<void> {
  await build({ ...bundleOptions(minify), entryPoints: { 'serve-function': join(ROOT, 'scripts', 'serve-function.ts') }, outdir, outExtension: { '.js': '.mjs' } });
}

/**
 * Bundles the app gateway's own host (scripts/serve-gateway.ts) to `<outdir>/serve-gateway.mjs`,
 * self-contained like the functions (the web libSQL client; Node only).
 */
async function buildGatewayHost(outdir: string, minify: boolean): Promise<void> {
  await build({
    ...bundleOptions(minify),
    entryPoints: { 'serve-gateway': join(ROOT, 'scripts', 'serve-gateway.ts') },
    outdir,
    outExtension: { '.js': '.mjs' },
    plugins: [libsqlWebPlugin()],
  });
}

/**
 * Bundles the local runner (wrangler-local/main.ts and the code it imports) to
 * `<outdir>/runner.mjs` for `npm start`. Its packages are not bundled: they load from
 * node_modules as under tsx (the embedded libSQL client's native addon, ssh2 for `ssh://` Engine
 * hosts). What this saves over running the TypeScript through tsx is tsx's module-loader thread
 * and its compiled sources: ~35 MiB of the runner's RSS (idle 127 -> 94 MiB on this project's
 * machine; 204 -> 158 MiB after 50 clients), measured with `npm run bench`.
 * @returns the bundle's absolute path
 */
export async function buildRunner(outdir: string = join(ROOT, 'dist')): Promise<string> {
  const outfile = join(resolve(ROOT, outdir), 'runner.mjs');
  await build({
    absWorkingDir: ROOT,
    entryPoints: [join(ROOT, 'wrangler-local', 'main.ts')],
    outfile,
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'es2022',
    legalComments: 'none',
    logLevel: 'warning',
  });
  return outfile;
}

/** What every bundle shares: self-contained ESM for Node 20 and Deno 2, the two stubbed packages, `require` available. */
function bundleOptions(minify: boolean): BuildOptions {
  return {
    absWorkingDir: ROOT,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'es2022', // Node 20 and Deno 2
    mainFields: ['module', 'main'],
    conditions: ['import', 'node'],
    alias: { ssh2: join(ROOT, 'scripts', 'build', 'ssh2-stub.ts'), debug: join(ROOT, 'scripts', 'build', 'debug-stub.cjs') },
    banner: { js: BANNER },
    minify,
    legalComments: 'none',
    logLevel: 'warning',
  };
}

/**
 * Builds the bundles.
 * @returns the manifest entries, in name order
 */
export async function buildFunctions(opts: { outdir?: string; minify?: boolean; only?: string[]; quiet?: boolean } = {}): Promise<BuiltFunction[]> {
  const outdir = resolve(ROOT, opts.outdir ?? 'dist');
  const fnDir = join(outdir, 'functions');
  let names = discoverFunctions();
  if (opts.only?.length) {
    const unknown = opts.only.filter((n) => !names.includes(n));
    if (unknown.length) throw new Error(`no such function: ${unknown.join(', ')} (have: ${names.join(', ')})`);
    names = names.filter((n) => opts.only!.includes(n));
  }
  rmSync(fnDir, { recursive: true, force: true });
  mkdirSync(fnDir, { recursive: true });

  const result = await build({
    ...bundleOptions(!!opts.minify),
    entryPoints: Object.fromEntries(names.map((n) => [n, `src-function:${n}`])),
    outdir: fnDir,
    splitting: false,
    plugins: [functionsPlugin(), libsqlWebPlugin()],
    metafile: true,
  });

  await buildFunctionHost(outdir, !!opts.minify);
  await buildGatewayHost(outdir, !!opts.minify);

  const built: BuiltFunction[] = [];
  for (const name of names) {
    const file = `functions/${name}.js`;
    const bytes = outputBytes(result.metafile, join(fnDir, `${name}.js`));
    const env = envNames(readFileSync(join(fnDir, `${name}.js`), 'utf8'));
    built.push({ name, file, bytes, scheduled: false, env, ...(await describe(name)) });
  }
  writeFileSync(join(fnDir, 'manifest.json'), JSON.stringify({ builtAt: new Date().toISOString(), minified: !!opts.minify, functions: built }, null, 2) + '\n');

  if (!opts.quiet) {
    const w = Math.max(...built.map((b) => b.name.length));
    console.log(`Built ${built.length} function bundles into ${relative(process.cwd(), fnDir) || '.'}/${opts.minify ? ' (minified)' : ''}:`);
    for (const b of built) {
      const what = b.route
        ? `${b.method} /{facility}/${b.route}`
        : b.name === 'outline'
          ? 'GET /'
          : b.name === 'openapi'
            ? 'GET /openapi.json, /docs'
            : b.name === 'ui'
              ? 'GET, POST /ui/… (dashboard)'
              : b.scheduled
                ? 'scheduled job'
                : '';
      console.log(`  ${b.name.padEnd(w)}  ${(b.bytes / 1024).toFixed(1).padStart(6)} KB  ${what}${b.scheduled && b.route ? ' + scheduled' : ''}`);
    }
    const total = built.reduce((s, b) => s + b.bytes, 0);
    console.log(`  ${'total'.padEnd(w)}  ${(total / 1024).toFixed(1).padStart(6)} KB`);
  }
  return built;
}

function outputBytes(meta: Metafile, absFile: string): number {
  for (const [out, info] of Object.entries(meta.outputs)) {
    if (resolve(ROOT, out) === absFile) return info.bytes;
  }
  return existsSync(absFile) ? readFileSync(absFile).length : 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      minify: { type: 'boolean', default: false },
      outdir: { type: 'string' },
      only: { type: 'string' },
      quiet: { type: 'boolean', default: false },
      runner: { type: 'boolean', default: false },
    },
  });
  try {
    if (values.runner) {
      const file = await buildRunner(values.outdir);
      if (!values.quiet) console.log(`Built the runner into ${relative(process.cwd(), file)}`);
      process.exit(0);
    }
    await buildFunctions({ minify: values.minify, outdir: values.outdir, only: values.only?.split(',').filter(Boolean), quiet: values.quiet });
  } catch (e) {
    console.error(`build: ${(e as Error).message}`);
    process.exit(1);
  }
}
