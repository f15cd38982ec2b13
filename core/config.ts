/**
 * Configuration: one loader with defaults, validated at start-up with a clear message.
 *
 * The facility file (JSON) is read from `SRC_CONFIG`, else `./config/facilities.json`; when
 * neither exists the built-in default is one facility, `demo`, on the local Engine
 * (`DOCKER_HOST` honoured, else `unix:///var/run/docker.sock`).
 *
 * @example config/facilities.json
 * { "facilities": { "demo": { "engine": { "host": "unix:///var/run/docker.sock" }, "publishHost": "127.0.0.1" } } }
 *
 * @module
 */
import * as v from 'valibot';
import { env, readTextFile } from './runtime.ts';
import { configFacilityIdSchema, scaleBytes } from './schemas.ts';
import { compileImagePattern } from './reference.ts';
import { facilityGatewaySchema, gatewaySchema, resolveGateway, type GatewaySettings } from './gateway/settings.ts';

/** An Engine URL: `unix://`, `tcp://`, `ssh://` or `http(s)://`. */
const engineHostSchema = v.pipe(v.string(), v.regex(/^(unix|tcp|ssh|https?):\/\//, 'must be unix://, tcp://, ssh:// or http(s)://'));

const endpointSchema = v.strictObject({
  host: engineHostSchema,
  tls: v.optional(v.strictObject({ ca: v.optional(v.string()), cert: v.optional(v.string()), key: v.optional(v.string()) })),
  timeoutMs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(100), v.maxValue(600_000))),
});

/** Byte sizes in config: a number of bytes or a string like `512m`, `2g` (docker's RAMInBytes units). */
const bytesSchema = v.union([
  v.pipe(v.number(), v.integer(), v.minValue(0)),
  v.pipe(
    v.string(),
    v.regex(/^\d+(\.\d+)?\s*[kmgt]?i?b?$/i, 'must be bytes or a size like 512m, 2g'),
    v.transform((x) => {
      const m = x.match(/^(\d+(?:\.\d+)?)\s*([kmgt]?)/i)!;
      return scaleBytes(m[1], m[2]);
    }),
  ),
]);

/** A `{ default, max }` limit pair; `default` above `max` is refused (it would be applied silently otherwise). */
function limitSchema<S extends v.GenericSchema<unknown, number>>(value: S) {
  return v.pipe(
    v.strictObject({ default: v.optional(value), max: v.optional(value) }),
    v.rawCheck(({ dataset, addIssue }) => {
      if (!dataset.typed) return;
      const { default: d, max } = dataset.value as { default?: number; max?: number };
      if (d !== undefined && max !== undefined && d > max) {
        addIssue({ message: `default (${d}) must not be above max (${max})`, path: [{ type: 'object', origin: 'value', input: dataset.value as Record<string, unknown>, key: 'default', value: d }] });
      }
    }),
  );
}

/** An image pattern (see `compileImagePattern` in core/reference.ts): `docker.io/src-test/*`, `127.0.0.1:5000/**`. */
const imagePatternSchema = v.pipe(
  v.string(),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    try {
      compileImagePattern(dataset.value);
    } catch (e) {
      addIssue({ message: (e as Error).message });
    }
  }),
);

const uidGidSchema = v.pipe(v.string(), v.regex(/^\d+:\d+$/, 'must be UID:GID'));

/**
 * Identity sources of a facility, asked in this order after `userMap`: a passwd/group file pair,
 * then an LDAP directory (posixAccount / posixGroup).
 */
const identitySchema = v.strictObject({
  /** passwd(5)/group(5) files (e.g. `/etc/passwd`, `/etc/group`, or copies synced from a directory). */
  files: v.optional(
    v.strictObject({
      passwd: v.pipe(v.string(), v.startsWith('/', 'must be an absolute path')),
      group: v.optional(v.pipe(v.string(), v.startsWith('/', 'must be an absolute path'))),
    }),
  ),
  /** An LDAP directory with posixAccount users and posixGroup groups. */
  ldap: v.optional(
    v.strictObject({
      /** `ldap://host:port` or `ldaps://…`. */
      url: v.pipe(v.string(), v.regex(/^ldaps?:\/\/\S+$/, 'must be ldap:// or ldaps://')),
      /** Where users are searched (`ou=people,dc=example,dc=org`). */
      userBase: v.pipe(v.string(), v.nonEmpty('must not be empty')),
      /** Where posixGroup groups are searched (supplementary groups; none when absent). */
      groupBase: v.optional(v.pipe(v.string(), v.nonEmpty('must not be empty'))),
      /** Bind DN for searches (anonymous bind when absent). */
      bindDn: v.optional(v.string()),
      /** Environment variable holding the bind password (never in this file). */
      bindPasswordEnv: v.optional(v.pipe(v.string(), v.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name'))),
      /** Attribute holding the user name (default `uid`). */
      userAttribute: v.optional(v.pipe(v.string(), v.regex(/^[A-Za-z][A-Za-z0-9-]*$/, 'must be an attribute name')), 'uid'),
      timeoutMs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(100), v.maxValue(60_000)), 5000),
    }),
  ),
  /** Seconds a looked-up identity (or its absence) is cached (default 60). */
  cacheSeconds: v.optional(v.pipe(v.number(), v.integer('must be whole seconds'), v.minValue(0, 'must be at least 0'), v.maxValue(86_400, 'must be at most 86400')), 60),
  /**
   * A user no source knows: `refuse` (create-app answers 403 `no_identity`) or `fallback`
   * (default: the app runs as `fallback`, with no host mounts).
   */
  missing: v.optional(v.picklist(['refuse', 'fallback'], "must be 'refuse' or 'fallback'"), 'fallback'),
  /** The unprivileged `UID:GID` of a user without identity (default `65534:65534`, nobody:nogroup). */
  fallback: v.optional(
    v.pipe(
      uidGidSchema,
      v.check((x) => x.split(':').every((n) => Number(n) !== 0), 'must not be UID 0 or GID 0'),
    ),
    '65534:65534',
  ),
  /** Image patterns (as `images.approved`) whose apps run as the image's own user, root included; never with host mounts. */
  rootImages: v.optional(v.array(imagePatternSchema), []),
});
export type IdentitySettings = v.InferOutput<typeof identitySchema>;

/** The create policy applied to every app a facility creates (containers and services). */
const policySchema = v.strictObject({
  /** Memory limit in bytes: `default` when a create asks none, `max` caps what it may ask. */
  memory: v.optional(limitSchema(bytesSchema), {}),
  /** CPUs (fractional) per app. */
  cpus: v.optional(limitSchema(v.pipe(v.number(), v.minValue(0.01, 'must be at least 0.01'))), {}),
  /** Maximum number of processes per app. */
  pids: v.optional(limitSchema(v.pipe(v.number(), v.integer('must be a whole number'), v.minValue(1, 'must be at least 1'))), {}),
  /** Restart policy of app containers. */
  restart: v.optional(v.picklist(['no', 'on-failure', 'unless-stopped', 'always']), 'no'),
  /** Host mounts: the only host paths an app may see; `{user}` is replaced by the app's user. */
  mounts: v.optional(
    v.array(
      v.strictObject({
        source: v.pipe(v.string(), v.startsWith('/', 'must be an absolute host path')),
        target: v.pipe(v.string(), v.startsWith('/', 'must be an absolute container path')),
        readOnly: v.optional(v.boolean(), false),
        /** A missing source directory is created, owned by the app's UID:GID (else create-app answers 400 naming it). */
        create: v.optional(v.boolean(), false),
      }),
    ),
    [],
  ),
  /** Per-user `UID:GID` the app runs as, so it sees the user's files as the user (the static identity source). */
  userMap: v.optional(v.record(v.string(), v.pipe(v.string(), v.regex(/^\d+(:\d+)?$/, 'must be UID or UID:GID'))), {}),
  /** Image of the helper container that creates missing mount sources (`create: true`); it needs /bin/busybox. */
  mountHelperImage: v.optional(v.pipe(v.string(), v.nonEmpty('must not be empty')), 'busybox:latest'),
  /** Where users' UID, GID and groups come from besides `userMap`, and what a user without one gets (core/user-identity.ts). */
  identity: v.optional(identitySchema, {}),
});
export type CreatePolicy = v.InferOutput<typeof policySchema>;

/** Credentials for one registry, sent to the Engine as `X-Registry-Auth`; never answered or logged. */
const registryCredentialSchema = v.pipe(
  v.strictObject({
    username: v.optional(v.pipe(v.string(), v.nonEmpty('must not be empty'))),
    password: v.optional(v.string()),
    /** Name of an environment variable holding the password, to keep it out of this file. */
    passwordEnv: v.optional(v.pipe(v.string(), v.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name'))),
    /** An identity (refresh) token instead of username and password. */
    identityToken: v.optional(v.string()),
  }),
  v.check(
    (c) => c.identityToken !== undefined || (c.username !== undefined && (c.password !== undefined || c.passwordEnv !== undefined)),
    'needs username and password (or passwordEnv), or identityToken',
  ),
);

/**
 * Which images a facility may run, and how they are pulled. Nothing is approved by default:
 * an empty list means no image may run until an admin approves a request.
 */
const imagesSchema = v.strictObject({
  /** References or patterns approved without any request (images built or loaded locally, a site registry). */
  approved: v.optional(v.array(imagePatternSchema), []),
  /** Patterns whose requests are approved (and pulled) at once, without an admin. */
  autoApprove: v.optional(v.array(imagePatternSchema), []),
  /** Credentials per registry host[:port] (`docker.io` for Docker Hub). */
  registries: v.optional(v.record(v.pipe(v.string(), v.regex(/^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\])(?::\d+)?$/, 'must be a registry host[:port]')), registryCredentialSchema), {}),
  /** A pull that reports no progress for this many seconds is aborted and recorded as failed (default 120). */
  pullStallSeconds: v.optional(v.pipe(v.number(), v.integer(), v.minValue(5), v.maxValue(3600)), 120),
  /**
   * Whether a request without a token may start a pull (default false): `true` lets an anonymous
   * request approve by the `autoApprove` patterns (and pull an `approved` image) as a token's
   * does. Either way only a token's request (or an admin) retries a failed pull.
   */
  anonymousAutoApprove: v.optional(v.boolean(), false),
  /**
   * Most unresolved records (pending, approved or pulling) that only anonymous
   * requests asked for; beyond it an anonymous request for a new reference answers 429
   * `rate_limited` (default 100; 0: anonymous requests only add to existing records).
   */
  maxPendingAnonymous: v.optional(v.pipe(v.number(), v.integer('must be a whole number'), v.minValue(0, 'must be at least 0'), v.maxValue(100_000, 'must be at most 100000')), 100),
});
export type ImageSettings = v.InferOutput<typeof imagesSchema>;

/** Swarm-mode service settings of a facility. */
const swarmSchema = v.strictObject({
  /**
   * `replicated-job` (default, as the original API): each app is a job that runs `replicas`
   * tasks to completion; `replicated`: a long-running service with `replicas` tasks.
   */
  serviceMode: v.optional(v.picklist(['replicated-job', 'replicated'], "must be 'replicated-job' or 'replicated'"), 'replicated-job'),
  /** Tasks per app (default 1). */
  replicas: v.optional(v.pipe(v.number(), v.integer('must be a whole number'), v.minValue(1, 'must be at least 1'), v.maxValue(100, 'must be at most 100')), 1),
  /**
   * Swarm restart condition of the tasks (`none`, `on-failure`, `any`). Default: `on-failure`
   * for jobs (a finished job stays complete), `any` for replicated services (tasks of a failed
   * node are rescheduled). Jobs never take `any` (it becomes `on-failure`).
   */
  restart: v.optional(v.picklist(['none', 'on-failure', 'any'], "must be 'none', 'on-failure' or 'any'")),
  /**
   * Which exposed ports of an app the swarm publishes: `none` (default) or `all`, each on an
   * engine-chosen port of every address of the node that runs the task (swarm cannot bind a
   * published port to one host address, moby#26696): any host and any other app can reach it.
   */
  publish: v.optional(v.picklist(['none', 'all'], "must be 'none' or 'all'"), 'none'),
  /**
   * The app gateway's connectors (core/gateway/connector.ts): one small container per opened
   * app on the manager, on that app's user overlay only, forwarding a Unix socket in `dir` to
   * the app's service. `image` (default `src-container-api/connector:latest`, built by
   * scripts/build-connector-image.sh), `dir` (a directory on the manager's host that the
   * gateway reads too; default `/run/src-container-api/connectors/FACILITY`), `user` (`UID:GID`
   * the connector runs as and owns the sockets, mode 0600; default `65534:65534`: nginx's
   * `nobody` workers and a root runner can connect).
   */
  connector: v.optional(
    v.strictObject({
      image: v.optional(v.pipe(v.string(), v.regex(/^[a-z0-9][a-z0-9._/:@-]*$/i, 'must be an image reference')), 'src-container-api/connector:latest'),
      dir: v.optional(v.pipe(v.string(), v.regex(/^\/[^\0]*$/, 'must be an absolute path'), v.maxLength(80, 'must be at most 80 characters (Unix socket paths are short)'))),
      user: v.optional(v.pipe(v.string(), v.regex(/^[1-9]\d*:\d+$/, 'must be UID:GID, not root (e.g. 65534:65534)')), '65534:65534'),
    }),
    {},
  ),
});
export type SwarmSettings = v.InferOutput<typeof swarmSchema>;

/** A node's hostname as its Engine reports it (`Description.Hostname`). */
const nodeHostnameSchema = v.pipe(v.string(), v.regex(/^[A-Za-z0-9]([A-Za-z0-9_.-]{0,252})$/, 'must be a node hostname'));
/** A node's Engine: an endpoint object, or its host URL alone. */
const nodeEndpointSchema = v.union(
  [
    v.pipe(
      engineHostSchema,
      v.transform((host): v.InferOutput<typeof endpointSchema> => ({ host })),
    ),
    endpointSchema,
  ],
  'must be an Engine URL (unix://, tcp://, ssh://) or an endpoint object { host, tls?, timeoutMs? }',
);

/** Per-user app networks (core/user-network.ts): solo bridges take their subnets from `pool`. */
const networksSchema = v.pipe(
  v.strictObject({
    /** IPv4 block the per-user bridge subnets come from (default 10.213.0.0/16). */
    pool: v.optional(v.pipe(v.string(), v.regex(/^(\d{1,3}\.){3}\d{1,3}\/(\d|[12]\d|3[0-2])$/, 'must be an IPv4 CIDR block such as 10.213.0.0/16')), '10.213.0.0/16'),
    /** Prefix length of one user's subnet (default 27: 29 apps per user, 2048 users in a /16). */
    prefix: v.optional(v.pipe(v.number(), v.integer('must be a whole number'), v.minValue(16, 'must be at least 16'), v.maxValue(29, 'must be at most 29')), 27),
  }),
  v.check((n) => Number(n.pool.split('/')[1]) <= n.prefix, 'pool must be at least as large as one subnet (pool prefix <= prefix)'),
);

const facilitySchema = v.strictObject({
  /** Per-user networks: the solo bridges' address pool. */
  networks: v.optional(networksSchema, {}),
  /** Create policy for apps (limits, restart, mounts, user map). */
  policy: v.optional(policySchema, {}),
  /** Image approvals (pre-approved and auto-approved patterns) and registry credentials. */
  images: v.optional(imagesSchema, {}),
  /** Display name. */
  description: v.optional(v.string()),
  /** The Engine (in swarm mode: a manager's Engine). */
  engine: v.optional(endpointSchema),
  /** Host address that app ports are published on (default 127.0.0.1). */
  publishHost: v.optional(v.pipe(v.string(), v.ip('must be an IP address')), '127.0.0.1'),
  /**
   * Most Engine reads one request makes at once when it fans out (stats samples of several
   * apps, node Engines, task lists); default 16.
   */
  concurrency: v.optional(v.pipe(v.number(), v.integer('must be a whole number'), v.minValue(1, 'must be at least 1'), v.maxValue(256, 'must be at most 256')), 16),
  /**
   * Most stats samples one get-app-stats request takes at once; default 512. A sample is light
   * for the Engine (one read of the container's cgroup, or a wait for its next tick when it
   * samples twice), so the stats of many apps take about one sample's time instead of
   * N / `concurrency` of them: at 500 apps 4.9 s against 4.0 s for 500 raw calls at once
   * (`docker stats` opens one per container), 8.3 s with 128 (four waves).
   */
  statsConcurrency: v.optional(v.pipe(v.number(), v.integer('must be a whole number'), v.minValue(1, 'must be at least 1'), v.maxValue(1024, 'must be at most 1024')), 512),
  /** Mode override; `auto` detects it from the Engine. */
  mode: v.optional(v.picklist(['auto', 'solo', 'swarm']), 'auto'),
  /** Swarm mode: how apps run as services (core/services.ts). */
  swarm: v.optional(swarmSchema, {}),
  /**
   * Swarm mode: the Engine of each node, by hostname, for what only a node's own Engine knows
   * (task stats). A URL string is short for `{ "host": URL }`.
   */
  nodes: v.optional(v.record(nodeHostnameSchema, nodeEndpointSchema), {}),
  /** The app gateway here: `admins` (may admin tokens open users' apps; default: the top-level setting). */
  gateway: v.optional(facilityGatewaySchema, {}),
});

/**
 * The uptime job: its schedule in the local runner, how long history is kept, and how long one
 * run may hold a facility's lease. Environment overrides: `SRC_UPTIME_CRON`,
 * `SRC_UPTIME_RETENTION_DAYS`, `SRC_UPTIME_LEASE_SECONDS`.
 */
const uptimeSchema = v.strictObject({
  /**
   * Cron pattern (croner: 5 or 6 fields, or `@hourly` …) of the local runner's schedule, default
   * every minute; `off` when system cron or a timer runs `npm run uptime-job` instead.
   */
  schedule: v.optional(v.pipe(v.string(), v.regex(/^(off|@\w+|\S+( +\S+){4,6})$/, "must be a cron pattern such as '* * * * *', or 'off'")), '* * * * *'),
  /** Days of uptime history kept; the job prunes older rows (default 35). */
  retentionDays: v.optional(v.pipe(v.number(), v.integer('must be whole days'), v.minValue(1, 'must be at least 1'), v.maxValue(3650, 'must be at most 3650')), 35),
  /** Seconds one run may hold a facility's lease before another runner may take it over (default 120). */
  leaseSeconds: v.optional(v.pipe(v.number(), v.integer('must be whole seconds'), v.minValue(5, 'must be at least 5'), v.maxValue(3600, 'must be at most 3600')), 120),
});
export type UptimeSettings = v.InferOutput<typeof uptimeSchema>;

const configSchema = v.strictObject({
  /** Directory for the embedded database and generated secrets (default ./data). */
  dataDir: v.optional(v.string()),
  /** The uptime job (schedule, retention, lease). */
  uptime: v.optional(uptimeSchema, {}),
  /** The app gateway (core/gateway/settings.ts): apps URL, cookie lifetime, admins. */
  gateway: v.optional(gatewaySchema),
  facilities: v.pipe(
    v.record(configFacilityIdSchema, facilitySchema),
    v.check((r) => Object.keys(r).length > 0, 'must define at least one facility'),
  ),
});

export type FacilityConfig = v.InferOutput<typeof facilitySchema> & { id: string; engine: v.InferOutput<typeof endpointSchema> };
export interface Config {
  dataDir: string;
  dbUrl: string;
  facilities: Record<string, FacilityConfig>;
  /** The uptime job's settings, environment overrides applied. */
  uptime: UptimeSettings;
  /** The app gateway's settings, resolved (core/gateway/settings.ts). */
  gateway: GatewaySettings;
  /** Where the config came from (a path, or `built-in default`). */
  source: string;
}

let cached: Config | undefined;

/**
 * The configuration when there is no file: one facility, `demo`, on the local Engine, with a
 * create policy that keeps one app from taking the host (2 GiB / 2 CPUs / 1024 processes by
 * default, at most 8 GiB / 4 CPUs / 4096) and brings apps back after a host restart unless a
 * user stopped them. Nothing is approved: images are requested and approved first.
 */
export const BUILT_IN_DEFAULT = {
  facilities: {
    demo: {
      description: 'Local Docker Engine',
      policy: {
        memory: { default: '2g', max: '8g' },
        cpus: { default: 2, max: 4 },
        pids: { default: 1024, max: 4096 },
        restart: 'unless-stopped',
      },
    },
  },
};

/** Default Engine host: `DOCKER_HOST`, else the local Unix socket. */
export function defaultEngineHost(): string {
  return env('DOCKER_HOST') ?? 'unix:///var/run/docker.sock';
}

/**
 * Parses and validates a config object (already JSON-decoded).
 * @throws Error naming the path and rule of the first invalid setting
 */
export function parseConfig(raw: unknown, source: string): Config {
  const r = v.safeParse(configSchema, raw);
  if (!r.success) {
    const issue = r.issues[0];
    const path = v.getDotPath(issue) ?? '(root)';
    throw new Error(`Invalid configuration in ${source}: ${path}: ${issueMessage(issue)}`);
  }
  const dataDir = env('SRC_DATA_DIR') ?? r.output.dataDir ?? './data';
  const facilities: Record<string, FacilityConfig> = {};
  for (const [id, f] of Object.entries(r.output.facilities)) {
    facilities[id] = { ...f, id, engine: f.engine ?? { host: defaultEngineHost() } };
  }
  const uptime = uptimeWithEnv(r.output.uptime, source);
  const gateway = resolveGateway(r.output.gateway, source);
  return { dataDir, dbUrl: env('SRC_DB_URL') ?? `file:${dataDir}/src.db`, facilities, source, uptime, gateway };
}

/** An issue's message; an unknown key (a typo such as `polcy`) says so instead of valibot's "Expected never". */
function issueMessage(issue: v.BaseIssue<unknown>): string {
  if (issue.type === 'strict_object') return 'unknown setting (check its spelling; the README lists the settings)';
  return issue.message;
}

/** Applies `SRC_UPTIME_CRON`, `SRC_UPTIME_RETENTION_DAYS`, `SRC_UPTIME_LEASE_SECONDS` over the file's uptime settings. */
function uptimeWithEnv(fromFile: UptimeSettings, source: string): UptimeSettings {
  const raw: Record<string, unknown> = { ...fromFile };
  const cron = env('SRC_UPTIME_CRON');
  if (cron !== undefined) raw.schedule = cron;
  // Literal names (the bundler lists the variables a function reads from `env('…')` calls).
  const days = env('SRC_UPTIME_RETENTION_DAYS');
  const lease = env('SRC_UPTIME_LEASE_SECONDS');
  if (days !== undefined) raw.retentionDays = /^\d+$/.test(days) ? Number(days) : NaN;
  if (lease !== undefined) raw.leaseSeconds = /^\d+$/.test(lease) ? Number(lease) : NaN;
  const r = v.safeParse(uptimeSchema, raw);
  if (!r.success) {
    const issue = r.issues[0];
    throw new Error(`Invalid configuration in ${source} (or its SRC_UPTIME_* environment overrides): uptime.${v.getDotPath(issue) ?? ''}: ${issueMessage(issue)}`);
  }
  return r.output;
}

/** Loads (once per process) and returns the configuration. */
export function loadConfig(): Config {
  if (cached) return cached;
  const path = env('SRC_CONFIG') ?? './config/facilities.json';
  const text = readTextFile(path);
  if (text === undefined) {
    if (env('SRC_CONFIG')) throw new Error(`SRC_CONFIG=${path}: file not found`);
    cached = parseConfig(BUILT_IN_DEFAULT, 'built-in default');
    return cached;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`Invalid configuration in ${path}: not JSON (${(e as Error).message})`);
  }
  cached = parseConfig(raw, path);
  return cached;
}

/** Replaces the process configuration (tests and the runner's start-up). */
export function setConfig(c: Config | undefined): void {
  cached = c;
}
