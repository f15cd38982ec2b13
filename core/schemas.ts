/**
 * One valibot schema per parameter kind, shared by every route. Each rule carries a message
 * that names the rule, so a 400 says exactly what was wrong.
 *
 * @example
 * v.parse(userSchema, 'alice')          // 'alice'
 * v.safeParse(userSchema, 'a--b')       // fails: "must not contain '--'"
 *
 * @module
 */
import * as v from 'valibot';
import { parseImageReference } from './reference.ts';

/** Longest user name. */
export const USER_MAX = 32;
/** Longest app name: swarm's service-name limit, so one name works in both modes. */
export const APP_NAME_MAX = 63;
/** Most names one batch call (`name=a,b,c`) may carry. */
export const BATCH_MAX = 50;

/** Repository path component (distribution grammar): the IMAGE part of an app name. */
const IMAGE_PART = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const USER_CHARS = /^[A-Za-z0-9_-]+$/;

/** `user`: letters, digits, `-`, `_`; no `--`; no leading or trailing `-`; 1..32 characters. */
export const userSchema = v.pipe(
  v.string(),
  v.nonEmpty('must not be empty'),
  v.maxLength(USER_MAX, `must be at most ${USER_MAX} characters`),
  v.regex(USER_CHARS, "may contain only letters, digits, '-' and '_'"),
  v.check((s) => !s.includes('--'), "must not contain '--' (it separates IMAGE and USER in app names)"),
  v.check((s) => !s.startsWith('-') && !s.endsWith('-'), "must not start or end with '-'"),
);

/** `image`: a full image reference (registry host with port, namespaces, tag, digest). */
export const imageReferenceSchema = v.pipe(
  v.string(),
  v.nonEmpty('must not be empty'),
  v.maxLength(512, 'must be at most 512 characters'),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    try {
      return parseImageReference(dataset.value);
    } catch (e) {
      addIssue({ message: `must be a valid image reference (${(e as Error).message})` });
      return NEVER;
    }
  }),
);

/** `name`: one app name, `IMAGE--USER`, at most 63 characters. */
export const appNameSchema = v.pipe(
  v.string(),
  v.nonEmpty('must not be empty'),
  v.maxLength(APP_NAME_MAX, `must be at most ${APP_NAME_MAX} characters`),
  v.regex(new RegExp(`^${IMAGE_PART}--[A-Za-z0-9_-]+$`), "must be IMAGE--USER (IMAGE: lowercase repository name; USER: letters, digits, '-', '_')"),
  v.check((s) => v.is(userSchema, s.slice(s.lastIndexOf('--') + 2)) && !s.slice(0, s.lastIndexOf('--')).endsWith('-'), 'must be IMAGE--USER with a valid USER after the last --'),
);

/** `name` as sent by batch clients: one name or a comma-separated list (`a,b,c`), deduplicated. */
export const appNamesSchema = v.pipe(
  v.string(),
  v.nonEmpty('must not be empty'),
  v.transform((s) => [...new Set(s.split(','))]),
  v.maxLength(BATCH_MAX, `must list at most ${BATCH_MAX} names`),
  v.array(appNameSchema),
);

/** `timeout`: seconds to wait before SIGKILL on stop/restart, 0..300. */
export const timeoutSchema = v.pipe(
  v.string(),
  v.regex(/^\d+$/, 'must be a whole number of seconds'),
  v.maxLength(3, 'must be at most 300 seconds'),
  v.transform(Number),
  v.maxValue(300, 'must be at most 300 seconds'),
);

/** The uptime summary windows (core/uptime-summary.ts); a month is 30 days. */
export const UPTIME_DURATIONS = ['hour', 'day', 'week', 'month'] as const;

/** `duration`: the uptime window. A month is 30 days. */
export const durationSchema = v.picklist(UPTIME_DURATIONS, "must be one of 'hour', 'day', 'week', 'month'");

/** `hostname`: a node hostname (RFC 1123 labels, 1..253 characters). */
export const hostnameSchema = v.pipe(
  v.string(),
  v.nonEmpty('must not be empty'),
  v.maxLength(253, 'must be at most 253 characters'),
  v.regex(/^[A-Za-z0-9]([A-Za-z0-9_-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9_-]{0,62}))*\.?$/, 'must be a valid hostname'),
);

/**
 * Path segments the service itself answers or will answer (dashboard, gateway, OpenAPI, docs,
 * metrics, health): no facility may be named like them (compared case-insensitively, as
 * proxies and browsers may fold them).
 */
export const RESERVED_FACILITY_IDS: readonly string[] = [
  'ui',
  'apps',
  'api',
  'docs',
  'metrics',
  'healthz',
  'readyz',
  'livez',
  'openapi.json',
  'openapi',
  'static',
  'assets',
  'auth',
  'login',
  'logout',
  'favicon.ico',
  'robots.txt',
  'well-known',
];

/** `facility` path segment: a configured facility ID. */
export const facilityIdSchema = v.pipe(v.string(), v.regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, "must be letters, digits, '-', '_' (at most 64)"));

/** A facility ID in the configuration: {@link facilityIdSchema}, and none of {@link RESERVED_FACILITY_IDS}. */
export const configFacilityIdSchema = v.pipe(
  facilityIdSchema,
  v.check(
    (id) => !RESERVED_FACILITY_IDS.includes(id.toLowerCase()),
    (i) => `'${String(i.input)}' is reserved for the service's own paths (${RESERVED_FACILITY_IDS.join(', ')}); name the facility otherwise`,
  ),
);

/** `true`/`false` flags in query strings. */
export const booleanFlagSchema = v.pipe(
  v.picklist(['true', 'false', '1', '0'], "must be 'true' or 'false'"),
  v.transform((s) => s === 'true' || s === '1'),
);

/**
 * Bytes of a size in docker's RAMInBytes units: `scaleBytes('2', 'g')` is 2 GiB (k, m, g, t =
 * KiB..TiB, any case; no unit: bytes), rounded to whole bytes.
 */
export function scaleBytes(num: string, unit: string | undefined): number {
  return Math.round(Number(num) * 1024 ** ' kmgt'.indexOf((unit || ' ').toLowerCase()));
}

/** `memory`: a memory limit like `512m`, `2g` or bytes (docker's units: k, m, g, t = KiB..TiB). */
export const memorySchema = v.pipe(
  v.string(),
  v.regex(/^\d{1,13}(\.\d{1,3})?[kmgt]?$/i, 'must be bytes or a size like 512m, 2g'),
  v.transform((x) => {
    const m = x.match(/^([\d.]+)([kmgt]?)$/i)!;
    return scaleBytes(m[1], m[2]);
  }),
  v.minValue(6 * 1024 * 1024, 'must be at least 6m (the Engine minimum)'),
  // beyond this a JSON number loses precision and the Engine's int64 refuses it
  v.maxValue(1024 ** 5, 'must be at most 1024t'),
);

/** `cpus`: CPUs per app, e.g. `0.5`, `2`. */
export const cpusSchema = v.pipe(
  v.string(),
  v.regex(/^\d+(\.\d+)?$/, 'must be a number of CPUs like 0.5 or 2'),
  v.regex(/^\d{1,3}(\.\d{1,3})?$/, 'must be at most 999.999 CPUs with at most 3 decimals'),
  v.transform(Number),
  v.minValue(0.01, 'must be at least 0.01'),
);

/** `pids`: maximum processes per app. */
export const pidsSchema = v.pipe(v.string(), v.regex(/^\d+$/, 'must be a whole number'), v.maxLength(7, 'must be at most 9999999'), v.transform(Number), v.minValue(1, 'must be at least 1'));

/** An ISO-8601 time (`2026-11-29T12:00:00Z`, offset or `Z` required), normalised to UTC ISO. */
export const isoTimeSchema = v.pipe(
  v.string(),
  v.regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/, 'must be an ISO-8601 time with a zone, e.g. 2026-11-29T12:00:00Z'),
  v.check((s) => !Number.isNaN(Date.parse(s)), 'must be a valid time'),
  v.transform((s) => new Date(s).toISOString()),
);

/** The states of an image request (core/images/approval.ts documents them). */
export const IMAGE_REQUEST_STATES = ['pending', 'approved', 'pulling', 'pulled', 'failed', 'denied'] as const;

/** `state`: one image request state or a comma-separated list (`pending,failed`), deduplicated. */
export const imageRequestStatesSchema = v.pipe(
  v.string(),
  v.nonEmpty('must not be empty'),
  v.transform((s) => [...new Set(s.split(','))]),
  v.array(v.picklist(IMAGE_REQUEST_STATES, `must be one or more of ${IMAGE_REQUEST_STATES.map((s) => `'${s}'`).join(', ')}, comma-separated`)),
);

/** `reason`: why an admin denied an image, shown to whoever asked: 1..500 printable characters. */
export const reasonSchema = v.pipe(
  v.string(),
  v.nonEmpty('must not be empty'),
  v.maxLength(500, 'must be at most 500 characters'),
  v.check((s) => !/[\u0000-\u001f\u007f]/.test(s), 'must not contain control characters'),
);

/** `limit`: at most this many items in one page, 1..1000 (routes that page default to 100). */
export const pageLimitSchema = v.pipe(
  v.string(),
  v.regex(/^\d+$/, 'must be a whole number'),
  v.maxLength(4, 'must be at most 1000'),
  v.transform(Number),
  v.minValue(1, 'must be at least 1'),
  v.maxValue(1000, 'must be at most 1000'),
);

/** `offset`: how many items to skip before the page, 0..1000000. */
export const pageOffsetSchema = v.pipe(
  v.string(),
  v.regex(/^\d+$/, 'must be a whole number'),
  v.maxLength(7, 'must be at most 1000000'),
  v.transform(Number),
  v.maxValue(1_000_000, 'must be at most 1000000'),
);
