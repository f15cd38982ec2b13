/**
 * Hostile input, property-based (fast-check), in-process against the runner app: generated
 * requests over every route in functions/index.ts (cases come from each route's metadata:
 * `meta.method`, `meta.query` names, so new routes are fuzzed as they appear) and every
 * parameter, with a time budget per route.
 *
 * Every answer: never 5xx; an error is problem+json with a `code` and the HTTP status; a 400
 * names one of the route's parameters (or `X-On-Behalf-Of`); 401 carries WWW-Authenticate,
 * 405 carries Allow; no error body echoes a huge input. Nothing is created or changed by a
 * rejected request: the Engine's containers of this file's facilities (and anything carrying
 * the run's marker) are the same before and after each route, the fixture apps keep their IDs
 * and states, GET routes and rejected POSTs leave the database as it was, and no shell ran
 * (payloads `touch` a marker file that must not exist afterwards).
 *
 * Inputs: shell metacharacters, names that collide through `--`, names past Docker's limits
 * (64, 255+), unicode (RTL, emoji, NUL, lone surrogates, overlong UTF-8), empty and repeated
 * parameters, huge query strings, percent-encoding tricks, path traversal in the facility
 * segment, random methods, random Authorization and X-On-Behalf-Of values.
 *
 * Budget: `FUZZ_BUDGET_MS` (default 60000) for the whole file, shared by the routes; each
 * property first runs `FUZZ_MIN_RUNS` (default 300) runs without a time limit, then up to
 * `FUZZ_MAX_RUNS` more until its share of the budget is used. `FUZZ_SEED` replays a run.
 *
 * Isolation: its own database (a temporary SRC_DATA_DIR) and its own facilities (on the
 * machine's main Engine), so the other test files running in parallel do not disturb the
 * before/after comparisons.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as v from 'valibot';
import { existsSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseConfig, setConfig } from '../core/config.ts';
import { resetFacilities } from '../core/facility.ts';
import { closeDb, getDb } from '../core/store.ts';
import { mintToken, revokeToken } from '../core/auth.ts';
import { settlePulls } from '../core/images/pull-worker.ts';
import { LABELS } from '../core/naming.ts';
import { appNameSchema, timeoutSchema, userSchema } from '../core/schemas.ts';
import { routes } from '../functions/index.ts';
import type { RouteFunction } from '../core/route.ts';
import { ADMIN_TOKEN, app, engine, IMAGES, removeNetworksWhere } from './helpers.ts';
import { NETWORK_LABELS } from '../core/user-network.ts';

// --- Run identity, isolation --------------------------------------------------------------
const RUN = Math.random().toString(36).slice(2, 8).padEnd(6, '0');
/** In every valid user, image and hostname this file generates, so nothing real is hit. */
const MARK = `fz${RUN}`;
/** What the shell payloads would create. */
const MARKER_FILE = `/tmp/src-fuzz-${RUN}`;
const DATA_DIR = resolve(`.tmp/fuzz-${RUN}`);
const F = { read: `fzr${RUN}`, write: `fzw${RUN}`, strict: `fzs${RUN}` } as const;
const MY_FACILITIES = new Set<string>(Object.values(F));

process.env.SRC_DATA_DIR = DATA_DIR;
delete process.env.SRC_DB_URL;
const mainEngine = { host: 'unix:///var/run/docker.sock' };
/** The test images may run (and nothing this file generates). */
const images = { approved: ['docker.io/src-test/*'] };
setConfig(
  parseConfig(
    {
      facilities: {
        [F.read]: { description: 'fuzz reads', engine: mainEngine, mode: 'solo', images },
        [F.write]: { description: 'fuzz writes', engine: mainEngine, mode: 'solo', images },
        [F.strict]: {
          description: 'fuzz policy',
          engine: mainEngine,
          mode: 'solo',
          images,
          policy: { memory: { default: '64m', max: '256m' }, cpus: { default: 0.5, max: 1 }, pids: { default: 100, max: 200 } },
        },
      },
    },
    'test/fuzz.test.ts',
  ),
);
resetFacilities();

const BUDGET_MS = Number(process.env.FUZZ_BUDGET_MS ?? 60_000);
const MIN_RUNS = Number(process.env.FUZZ_MIN_RUNS ?? 300);
const MAX_RUNS = Number(process.env.FUZZ_MAX_RUNS ?? 100_000);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);

// --- Fixtures -------------------------------------------------------------------------------
const U = { read: `${MARK}r`, write: `${MARK}w`, other: `${MARK}o` };
const FIX = {
  /** created, in F.read */
  read: `busybox--${U.read}`,
  /** created, in F.write */
  created: `busybox--${U.write}`,
  /** running, in F.write */
  running: `httpd--${U.write}`,
};
const FIXTURE_NAMES = new Set(Object.values(FIX));
const tokens = { user: '', other: '', limited: '', revoked: '' };
let imageId = '';

// --- Requests -------------------------------------------------------------------------------
interface Req {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}
interface Ans {
  status: number;
  text: string;
  body: any;
  headers: Headers;
}

async function send(r: Req): Promise<Ans> {
  const res = await app.fetch(new Request(`http://api.test${r.path}`, { method: r.method, headers: r.headers, body: r.body }));
  const text = await res.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, text, body, headers: res.headers };
}

const show = (r: Req) => `${r.method} ${r.path.length > 300 ? r.path.slice(0, 300) + `…(${r.path.length})` : r.path} ${JSON.stringify(r.headers).slice(0, 300)}`;

// --- Encoding -------------------------------------------------------------------------------
const UNRESERVED = /[A-Za-z0-9\-_.~]/;
type Enc = 'std' | 'all' | 'lower' | 'plus' | 'raw';
/** Percent-encodes `s` as UTF-8 (lone surrogates become U+FFFD, as TextEncoder does). */
function enc(s: string, style: Enc): string {
  if (style === 'raw') return s;
  let out = '';
  for (const ch of s) {
    if (style !== 'all' && UNRESERVED.test(ch)) out += ch;
    else if (style === 'plus' && ch === ' ') out += '+';
    else for (const b of new TextEncoder().encode(ch)) out += '%' + (style === 'lower' ? b.toString(16).padStart(2, '0') : b.toString(16).toUpperCase().padStart(2, '0'));
  }
  return out;
}
/** Whether `s` passes a schema (without narrowing `s`). */
const valid = (schema: v.GenericSchema, s: string): boolean => v.safeParse(schema, s).success;
/** What a header value becomes on the wire: UTF-8 bytes read as latin1, minus NUL/CR/LF. */
const headerSafe = (s: string) => String.fromCharCode(...new TextEncoder().encode(s)).replace(/[\0\r\n]/g, '');

// --- Value generators -----------------------------------------------------------------------
const shell = [
  `$(touch ${MARKER_FILE})`,
  `\`touch ${MARKER_FILE}\``,
  `;touch ${MARKER_FILE}`,
  `|touch ${MARKER_FILE}`,
  `&&touch ${MARKER_FILE}`,
  `||touch ${MARKER_FILE}`,
  `\ntouch ${MARKER_FILE}`,
  `\r\ntouch ${MARKER_FILE}`,
  `' ; touch ${MARKER_FILE} #`,
  `"; touch ${MARKER_FILE}; "`,
  `>${MARKER_FILE}`,
  `$(IFS=_;c=touch_${MARKER_FILE};$c)`,
  `\${IFS}touch\${IFS}${MARKER_FILE}`,
  `-v /:/host`,
  `--privileged`,
];
const unicode = [
  '\u202e', // RTL override
  '\u200f', // RTL mark
  '\u200b', // zero width space
  '\ufeff', // BOM
  '🐳',
  '👨‍👩‍👧',
  '\u0000',
  '\u0007',
  '\u007f',
  '\ud800', // lone surrogate
  '\udfff',
  'é', // precomposed
  'e\u0301', // combining
  'ｂｕｓｙｂｏｘ', // fullwidth
  'busyboх', // Cyrillic х
  'ß',
  'İ',
  '\u2028',
  '\u00a0',
];
const collisions = (user: string) => [
  `busybox--${user}--x`,
  `busybox----${user}`,
  `busybox---${user}`,
  `-busybox--${user}`,
  `busybox--${user}-`,
  `busybox--${user}--`,
  `busybox--`,
  `--${user}`,
  `--`,
  `----`,
  `busybox-${user}`,
  `busybox--x--y--${user}`,
  `busybox--${user}.reset-deadbeef`,
  `busybox--${user}/../x`,
  `busybox--${user},`,
  `,busybox--${user}`,
  `busybox--${user},,busybox--${user}`,
];
const lengths = [32, 33, 62, 63, 64, 65, 128, 255, 256, 1000, 4000];

const validUser = fc.stringMatching(/^[A-Za-z0-9_]{1,8}$/).map((s) => `${MARK}${s}`);
const imagePart = fc.stringMatching(/^[a-z0-9]{1,6}([._-][a-z0-9]{1,6}){0,2}$/);
const validName = fc
  .tuple(imagePart, validUser)
  .map(([i, u]) => `${i}--${u}`)
  .filter((n) => !FIXTURE_NAMES.has(n));
/** Strings of length `n` near Docker's and our limits. */
const longString = fc.tuple(fc.constantFrom(...lengths), fc.constantFrom('a', 'A', '-', '0', 'é', '🐳', '%', ',', '/', ' ')).map(([n, c]) => c.repeat(n));
const longName = fc.tuple(fc.constantFrom(...lengths), validUser).map(([n, u]) => `${'b'.repeat(Math.max(1, n - u.length - 2))}--${u}`);

/** Generic hostile strings: shell, unicode, long, arbitrary code points. */
const hostile: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      ...shell,
      ...unicode,
      '',
      ' ',
      ',',
      ',,',
      '-',
      '--',
      '.',
      '..',
      '../',
      '/',
      '%',
      '%%',
      '+',
      '&',
      '=',
      '#',
      '?',
      '*',
      'null',
      'undefined',
      'true',
      '[]',
      '{}',
      '0',
      '-1',
      'NaN',
      '__proto__',
      'constructor',
    ),
  },
  { weight: 3, arbitrary: fc.tuple(fc.oneof(validName, validUser, fc.constant('busybox')), fc.constantFrom(...shell, ...unicode), fc.boolean()).map(([a, b, pre]) => (pre ? b + a : a + b)) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: fc.constantFrom(...'abc-_,.:/@$`;|&()<>\'" \t\n\\%'.split('')), maxLength: 30 }) },
  { weight: 1, arbitrary: longString },
);

/** Names aimed at apps that do not exist (never a fixture name). */
function nameArb(fixtureUser: string): fc.Arbitrary<string> {
  const near = fc.oneof(
    fc.constantFrom(...collisions(fixtureUser), ...collisions(U.other)),
    fc.tuple(fc.constantFrom(...FIXTURE_NAMES), fc.constantFrom(...unicode, ...shell, ' ', '%', 'x', '-', '_', '.', '\t')).map(([n, s]) => n + s),
    fc.constantFrom(...FIXTURE_NAMES).map((n) => n.toUpperCase()),
    fc.constantFrom(...FIXTURE_NAMES).map((n) => n.replace('--', '-\u2010')), // a hyphen look-alike
    longName,
  );
  const single = fc.oneof({ weight: 3, arbitrary: validName }, { weight: 3, arbitrary: near }, { weight: 3, arbitrary: hostile });
  const batch = fc.array(fc.oneof({ weight: 3, arbitrary: validName }, { weight: 1, arbitrary: single }), { minLength: 2, maxLength: 60 }).map((a) => a.join(','));
  return fc.oneof({ weight: 4, arbitrary: single }, { weight: 1, arbitrary: batch }).filter((s) => !s.split(',').some((n) => FIXTURE_NAMES.has(n)));
}

const numberish = fc.oneof(fc.nat(400).map(String), fc.constantFrom('-1', '1e3', '0x10', '1.5', '٣', '３', '1_000', '+5', ' 5', '5 ', '00000010', '9'.repeat(30), 'Infinity', '0.0.1', '1,2'), hostile);
const memoryish = fc.oneof(
  fc.tuple(fc.nat(99999), fc.constantFrom('', 'b', 'k', 'm', 'g', 't', 'K', 'M', 'G', 'T', 'p', 'mb', 'gi')).map(([n, u]) => `${n}${u}`),
  fc.constantFrom('9999999999999t', '9999999999999.999t', '1e9', '-1m', '0'),
  hostile,
);
const isoish = fc.oneof(
  fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }).map((d) => d.toISOString()),
  fc.constantFrom(
    '2026-13-45T99:99Z',
    '2026-02-30T00:00Z',
    '2026-11-29T12:00:00',
    '2026-11-29',
    '0000-00-00T00:00:00Z',
    '2026-11-29T12:00:00+99:99',
    '2026-11-29T12:00:00.1234567890Z',
    'now',
    '1700000000',
  ),
  hostile,
);
const hostnameish = fc.oneof(
  fc.stringMatching(/^[a-z0-9]{1,10}(\.[a-z0-9]{1,10}){0,2}$/).map((h) => `${MARK}${h}`),
  fc.constantFrom('a'.repeat(64), `${'a.'.repeat(127)}a`, 'a..b', '.a', '-a', 'a_b', 'localhost'),
  hostile,
);

/** Values for a parameter, by its name (unknown names get generic strings). */
function valueArb(param: string): fc.Arbitrary<string> {
  switch (param) {
    case 'name':
      return nameArb(U.write);
    case 'user':
      return fc.oneof(validUser, fc.constantFrom(`${U.write}--x`, `x--${U.write}`, `-${U.write}`, `${U.write}-`, 'a'.repeat(33), U.other), hostile);
    case 'image':
      return fc.oneof(
        fc
          .tuple(fc.stringMatching(/^[a-z0-9]{1,6}$/), fc.constantFrom('', ':latest', ':v1.2', '@sha256:' + 'a'.repeat(64)), fc.constantFrom('', 'localhost:5000/', '127.0.0.1:1/', 'docker.io/'))
          .map(([n, t, reg]) => `${reg}${MARK}/${n}${t}`),
        fc.constantFrom('', ':', '@', 'UPPER/case', 'a//b', 'a:b:c', 'a@sha256:short', `${MARK}/x:${'t'.repeat(129)}`, `${MARK}/${'x/'.repeat(200)}y`),
        hostile,
      );
    case 'timeout':
    case 'limit':
    case 'pids':
      return numberish;
    case 'memory':
      return memoryish;
    case 'cpus':
      return fc.oneof(fc.constantFrom('0', '0.001', '0.01', '0.5', '1', '2', '3', '999.999', '1000', '1e2', '.5', '5.'), hostile);
    case 'since':
    case 'until':
      return isoish;
    case 'hostname':
      return hostnameish;
    case 'failed':
      return fc.oneof(fc.constantFrom('true', 'false', '1', '0', 'TRUE', 'yes', 'on'), hostile);
    case 'duration':
      return fc.oneof(fc.constantFrom('hour', 'day', 'week', 'month', 'HOUR', 'year', 'hour '), hostile);
    case 'route':
      return fc.oneof(fc.constantFrom(...routes.map((r) => r.meta.route)), hostile);
    default:
      return fc.oneof(
        fc.stringMatching(/^[a-z0-9]{1,8}$/).map((s) => `${MARK}${s}`),
        validName,
        hostile,
      );
  }
}

/** The facility path segment: mostly the route's facility, else traversal and other tricks. */
function facilityArb(home: string): fc.Arbitrary<string> {
  const tricks = [
    '..',
    '.',
    '%2e%2e',
    '%2E%2E%2F',
    `..%2f${home}`,
    `%2e%2e%2f${home}`,
    `x/../${home}`,
    `x%2f..%2f${home}`,
    `${home}/..`,
    `..;/${home}`,
    home.toUpperCase(),
    `${home}%00`,
    `${home}%20`,
    `%20${home}`,
    `${home};x`,
    `${home}%3Bx`,
    `${home}%2F`,
    `${home}%5C..`,
    '%5C..%5C',
    '__proto__',
    'constructor',
    'hasOwnProperty',
    'toString',
    'demo',
    'other',
    '',
    '%',
    '%zz',
    '%F0%9F%90%B3',
    '%C0%AE%C0%AE',
    '~root',
    'a'.repeat(65),
    'x'.repeat(3000),
  ];
  return fc.oneof({ weight: 7, arbitrary: fc.constant(home) }, { weight: 2, arbitrary: fc.constantFrom(...tricks) }, { weight: 1, arbitrary: hostile.map((s) => enc(s, 'std')) });
}

const methodArb = (m: string) =>
  fc.oneof(
    { weight: 8, arbitrary: fc.constant(m) },
    { weight: 2, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'PROPFIND', 'get', 'post', 'FOO', 'M-SEARCH', 'BREW') },
  );

const authArb = fc.oneof(
  { weight: 12, arbitrary: fc.constant(`Bearer ${ADMIN_TOKEN}`) },
  { weight: 2, arbitrary: fc.constantFrom('user', 'other', 'limited', 'revoked').map((k) => `Bearer ${tokens[k as keyof typeof tokens]}`) },
  { weight: 1, arbitrary: fc.constant('') },
  {
    weight: 3,
    arbitrary: fc.oneof(
      fc.constantFrom(
        'Bearer',
        'Bearer ',
        `bearer ${ADMIN_TOKEN}`,
        `BEARER  ${ADMIN_TOKEN}`,
        ADMIN_TOKEN,
        `Basic ${btoa('admin:admin')}`,
        `Bearer ${ADMIN_TOKEN} x`,
        `Bearer ${ADMIN_TOKEN.slice(0, -1)}B`,
        `Bearer ${ADMIN_TOKEN}A`,
        `Bearer src_${'a'.repeat(12)}_${'b'.repeat(43)}`,
        `Bearer ${'x'.repeat(10000)}`,
        `Bearer ${ADMIN_TOKEN.replace('src_', 'SRC_')}`,
      ),
      hostile.map((s) => `Bearer ${s}`),
      hostile,
    ),
  },
);
const oboArb = fc.oneof(
  { weight: 8, arbitrary: fc.constant(undefined) },
  { weight: 2, arbitrary: fc.constantFrom(U.write, U.read, U.other) },
  { weight: 1, arbitrary: validUser },
  { weight: 2, arbitrary: fc.oneof(fc.constantFrom(`${U.write}--x`, `x--${U.write}`, '', ' ', `${U.write},${U.other}`), hostile) },
);

/** A generated request for `route`. */
function requestArb(route: RouteFunction, home: string): fc.Arbitrary<Req> {
  const params = Object.entries(route.meta.query);
  const paramArbs = params.map(([name, p]) =>
    fc.record({
      present: fc.integer({ min: 0, max: 99 }).map((n) => n < (p.required ? 88 : 50)),
      values: fc.array(valueArb(name), { minLength: 1, maxLength: 3 }).chain((vals) => fc.integer({ min: 0, max: 99 }).map((n) => (n < 90 ? vals.slice(0, 1) : vals))),
      key: fc.oneof({ weight: 19, arbitrary: fc.constant(name) }, { weight: 1, arbitrary: fc.constantFrom(name.toUpperCase(), `${name}[]`, `${name} `, `${name}%00`, `${name}.`) }),
      keyEnc: fc.constantFrom<Enc>('std', 'std', 'all', 'lower'),
      valEnc: fc.oneof({ weight: 6, arbitrary: fc.constant<Enc>('std') }, { weight: 1, arbitrary: fc.constantFrom<Enc>('all', 'lower', 'plus', 'raw') }),
    }),
  );
  const extra = fc.array(fc.tuple(fc.oneof(fc.constantFrom('x', 'names', 'Name', 'user_', 'force', 'privileged', 'volume', 'cmd', '__proto__'), hostile), hostile), { maxLength: 3 });
  const tricky = fc.constantFrom(
    '%',
    '%%',
    '%2',
    '%zz',
    '%252e',
    '%u0041',
    '%00',
    '%0a',
    '%0d%0a',
    '%2C',
    '%26',
    '%3D',
    '%23',
    '+',
    '%2B',
    '%C0%AF',
    '%E0%80%AF',
    '%F0%80%80%AF',
    '%C1%BF',
    '%ED%A0%80',
    '%FF%FE',
    '%EF%BB%BF',
  );
  const rawSuffix = fc.oneof({ weight: 9, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.array(tricky, { minLength: 1, maxLength: 4 }).map((a) => a.join('')) });
  const huge = fc.oneof(
    { weight: 30, arbitrary: fc.constant('') },
    { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 7000, max: 20000 }), fc.constantFrom('a', '%', '%41', ',', '&x=')).map(([n, c]) => `&pad=${c.repeat(Math.ceil(n / c.length))}`) },
    { weight: 1, arbitrary: fc.integer({ min: 50, max: 700 }).map((n) => '&z=1'.repeat(n)) },
  );
  const sep = fc.constantFrom('&', '&', '&', '&', ';', '&&');
  const body = fc.oneof(
    { weight: 9, arbitrary: fc.constant(undefined) },
    {
      weight: 1,
      arbitrary: fc.oneof(
        fc.string({ maxLength: 200 }),
        fc.constant('{"name":"busybox--x","Privileged":true}'),
        fc.integer({ min: 60_000, max: 80_000 }).map((n) => 'x'.repeat(n)),
      ),
    },
  );
  const reqId = fc.oneof({ weight: 9, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: hostile.map(headerSafe) });
  return fc
    .record({
      method: methodArb(route.meta.method),
      facility: facilityArb(home),
      routeSeg: fc.oneof(
        { weight: 30, arbitrary: fc.constant(route.meta.route) },
        { weight: 1, arbitrary: fc.constantFrom(route.meta.route.toUpperCase(), `${route.meta.route}/`, `${route.meta.route}%00`, `${route.meta.route}/..`, `./${route.meta.route}`) },
      ),
      params: fc.tuple(...paramArbs),
      extra,
      rawSuffix,
      huge,
      sep,
      order: fc.boolean(),
      auth: authArb,
      obo: oboArb,
      reqId,
      body,
    })
    .map((g) => {
      const pairs: string[] = [];
      g.params.forEach((p) => {
        if (!p.present) return;
        for (const val of p.values) pairs.push(`${enc(p.key, p.keyEnc)}=${enc(val, p.valEnc)}`);
      });
      for (const [k, val] of g.extra) pairs.push(`${enc(k, 'std')}=${enc(val, 'std')}`);
      if (g.order) pairs.reverse();
      let q = pairs.join(g.sep) + g.rawSuffix + g.huge;
      if (q.startsWith('&')) q = q.slice(1);
      const headers: Record<string, string> = {};
      if (g.auth) headers.authorization = headerSafe(g.auth);
      if (g.obo !== undefined) headers['x-on-behalf-of'] = headerSafe(g.obo);
      if (g.reqId !== undefined) headers['x-request-id'] = g.reqId;
      const canBody = !['GET', 'HEAD', 'get'].includes(g.method);
      return { method: g.method, path: `/${g.facility}/${g.routeSeg}${q ? '?' + q : ''}`, headers, body: canBody ? g.body : undefined };
    })
    .filter((r) => !namesFixture(r.path));
}

/** Whether a request, as the server will parse it, names a fixture app anywhere. */
function namesFixture(path: string): boolean {
  let url: URL;
  try {
    url = new URL(`http://api.test${path}`);
  } catch {
    return false;
  }
  return [...url.searchParams.values()].some((val) => val.split(',').some((n) => FIXTURE_NAMES.has(n)));
}

// --- Invariants -----------------------------------------------------------------------------
/** Routes that act on the Engine: with the names this file generates they must never succeed. */
const ENGINE_MUTATING = new Set(['start-app', 'stop-app', 'pause-app', 'unpause-app', 'restart-app', 'kill-app', 'create-app', 'delete-app', 'hard-reset-app']);

interface Tally {
  runs: number;
  statuses: Map<number, number>;
  codes: Map<string, number>;
  successes: number;
}
const newTally = (): Tally => ({ runs: 0, statuses: new Map(), codes: new Map(), successes: 0 });

/**
 * The route a request reaches once its path is normalised (`/x/../f/get-users` is
 * `/f/get-users`, `/../stop-app/..` is `/`): a route, `outline` for `/`, or `none`.
 */
function reached(req: Req): RouteFunction | 'outline' | 'none' {
  const path = new URL(`http://api.test${req.path}`).pathname;
  if (path === '/') return 'outline';
  const seg = path.split('/');
  return (seg.length === 3 && routes.find((r) => r.meta.route === seg[2])) || 'none';
}

/** Checks one answer; throws (with the request) on the first broken invariant. */
function check(generatedFor: RouteFunction, req: Req, a: Ans, tally: Tally): void {
  const ctx = `${show(req)} -> ${a.status} ${a.text.slice(0, 500)}`;
  const target = reached(req);
  const route = typeof target === 'object' ? target : undefined;
  tally.runs++;
  tally.statuses.set(a.status, (tally.statuses.get(a.status) ?? 0) + 1);
  if (a.status >= 500) throw new Error(`5xx: ${ctx}`);
  if (a.status < 400) {
    tally.successes++;
    if (route && req.method.toUpperCase() === route.meta.method && ENGINE_MUTATING.has(route.meta.route)) throw new Error(`a ${route.meta.route} aimed at no real app succeeded: ${ctx}`);
    if (!route && target !== 'outline') throw new Error(`success without a route: ${ctx}`);
    return;
  }
  if (Array.isArray(a.body)) throw new Error(`error answered as a bare array, not problem+json: ${ctx}`);
  if (a.headers.get('content-type') !== 'application/problem+json') throw new Error(`error without problem+json: ${ctx}`);
  if (req.method !== 'HEAD' && a.body && 'results' in a.body) checkBatch(a, ctx, tally);
  if (req.method === 'HEAD') return; // no body on HEAD
  const b = a.body;
  if (typeof b !== 'object' || b === null || typeof b.code !== 'string' || !/^[a-z_]+$/.test(b.code)) throw new Error(`error body without a code: ${ctx}`);
  tally.codes.set(b.code, (tally.codes.get(b.code) ?? 0) + 1);
  if (b.status !== a.status) throw new Error(`body status ${b.status} differs from HTTP ${a.status}: ${ctx}`);
  if (a.text.length > 4096) throw new Error(`error body of ${a.text.length} bytes (echoes input?): ${ctx}`);
  if (a.status === 400 && b.code === 'invalid_parameter') {
    const known = [...Object.keys((route ?? generatedFor).meta.query), 'X-On-Behalf-Of'];
    if (route && !known.includes(b.parameter)) throw new Error(`400 names '${b.parameter}', not one of ${known.join(', ')}: ${ctx}`);
    if (typeof b.parameter !== 'string' || typeof b.rule !== 'string' || !b.rule) throw new Error(`400 without a parameter and rule: ${ctx}`);
  }
  if (a.status === 401 && !a.headers.get('www-authenticate')?.startsWith('Bearer')) throw new Error(`401 without WWW-Authenticate: ${ctx}`);
  if (a.status === 405 && a.headers.get('allow') !== (route ? route.meta.method : 'GET')) throw new Error(`405 without the right Allow: ${ctx}`);
}

/**
 * A batch call (`name=a,b`) in which every name failed answers a problem (core/http.ts
 * batchResponse) whose `results` holds the per-name entries: each `{name, error}` with a
 * problem inside, of the answer's status unless the reasons differ (`batch_failed`).
 */
function checkBatch(a: Ans, ctx: string, tally: Tally): void {
  const results = a.body.results;
  if (!Array.isArray(results) || results.length < 2) throw new Error(`batch problem with fewer than two results: ${ctx}`);
  for (const item of results) {
    const e = item?.error;
    if (typeof item?.name !== 'string' || typeof e?.code !== 'string') throw new Error(`batch result without a name and a problem: ${ctx}`);
    if (a.body.code !== 'batch_failed' && e.status !== a.status) throw new Error(`batch result of status ${e.status} in a ${a.status} answer: ${ctx}`);
    if (a.body.code === 'batch_failed' && e.status > a.status) throw new Error(`batch_failed status ${a.status} below a result's ${e.status}: ${ctx}`);
    tally.codes.set(e.code, (tally.codes.get(e.code) ?? 0) + 1);
  }
}

/** Containers of this file's facilities or carrying the run's marker anywhere: `id name state`. */
async function engineSnapshot(): Promise<string[]> {
  const list = await engine.listContainers({ all: true });
  return list
    .filter((c) => MY_FACILITIES.has(c.Labels?.[LABELS.facility]) || JSON.stringify([c.Names, c.Labels, c.Image]).includes(MARK))
    .map((c) => `${c.Id} ${c.Names?.[0]} ${c.State}`)
    .sort();
}

/** The fixtures' identity and state, from the Engine. */
async function fixtureSnapshot(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const n of FIXTURE_NAMES) {
    const c = await engine.inspectContainer(n);
    out[n] = JSON.stringify([c.Id, c.State.Status, c.State.Paused, c.State.StartedAt, c.State.FinishedAt, c.RestartCount, c.Config.Labels]);
  }
  return out;
}

/**
 * The rows of every table except the audit log (which records rejected calls too), token use
 * times, and the migrations a domain applies on first use (with its then empty tables).
 */
async function dbSnapshot(): Promise<string | undefined> {
  // pulls that approve-image or request-image started go on writing their progress: let them end
  let timer: ReturnType<typeof setTimeout> | undefined;
  const settled = await Promise.race([settlePulls().then(() => true), new Promise<false>((r) => (timer = setTimeout(() => r(false), 60_000)))]);
  clearTimeout(timer);
  if (!settled) return undefined; // a pull still running: no comparison this time
  const db = await getDb();
  const tables = (await db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN ('audit', 'sqlite_sequence', 'schema_migrations') ORDER BY name")).rows.map((r) =>
    String(r.name),
  );
  const parts: unknown[] = [];
  for (const t of tables) {
    const rows = (await db.execute(`SELECT * FROM "${t}" ORDER BY rowid`).catch(() => db.execute(`SELECT * FROM "${t}"`))).rows;
    if (rows.length) parts.push([t, rows.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => k !== 'last_used_at')))]);
  }
  return JSON.stringify(parts);
}

/** Runs `prop` at least MIN_RUNS times, then until `budgetMs` is used (or MAX_RUNS). */
async function runProperty<T>(prop: fc.IAsyncProperty<[T]>, budgetMs: number): Promise<void> {
  for (const [numRuns, plugins] of [
    [MIN_RUNS, []],
    [MAX_RUNS, [fc.interruptAfterTimeLimit(budgetMs)]],
  ] as const) {
    const d = await fc.check(prop, { numRuns, plugins: [...plugins], seed: SEED });
    if (d.failed) {
      const cause = d.errorInstance instanceof Error ? d.errorInstance.message : String(d.errorInstance);
      throw new Error(`${cause.slice(0, 3000)}\n${(fc.defaultReportMessage(d) ?? 'property failed').slice(0, 3000)}`);
    }
  }
}

const summary: string[] = [];
function record(label: string, t: Tally): void {
  const st = [...t.statuses]
    .sort((a, b) => a[0] - b[0])
    .map(([s, n]) => `${s}:${n}`)
    .join(' ');
  const codes = [...t.codes]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 6)
    .map(([c, n]) => `${c}:${n}`)
    .join(' ');
  summary.push(`${label.padEnd(40)} ${String(t.runs).padStart(6)} runs  ${st}  ${codes}`);
}

// --- Set-up and tear-down -------------------------------------------------------------------
async function callOk(method: string, path: string, expected: number): Promise<any> {
  const a = await send({ method, path, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  if (a.status !== expected) throw new Error(`${method} ${path}: ${a.status} ${a.text}`);
  return a.body;
}

async function removeMine(): Promise<void> {
  const list = await engine.listContainers({ all: true });
  const mine = list.filter((c) => MY_FACILITIES.has(c.Labels?.[LABELS.facility]) || JSON.stringify([c.Names, c.Labels]).includes(MARK));
  await Promise.all(mine.map((c) => engine.removeContainer(c.Id, { force: true, v: true }).catch(() => undefined)));
  await removeNetworksWhere((l) => MY_FACILITIES.has(l[NETWORK_LABELS.facility]) || JSON.stringify(l).includes(MARK.toLowerCase()));
}

let engineBefore: string[] = [];
let fixturesBefore: Record<string, string> = {};

beforeAll(async () => {
  tokens.user = (await mintToken({ role: 'user', user: U.write, name: 'fuzz user' })).token;
  tokens.other = (await mintToken({ role: 'user', user: U.other, name: 'fuzz other' })).token;
  tokens.limited = (await mintToken({ role: 'admin', name: 'fuzz limited admin', facilities: [F.read] })).token;
  const revoked = await mintToken({ role: 'user', user: U.write, name: 'fuzz revoked' });
  await revokeToken(revoked.record.id);
  tokens.revoked = revoked.token;
  imageId = (await engine.inspectImage(IMAGES.busybox)).Id;
  await callOk('POST', `/${F.read}/create-app?image=${encodeURIComponent(IMAGES.busybox)}&user=${U.read}`, 201);
  await callOk('POST', `/${F.write}/create-app?image=${encodeURIComponent(IMAGES.busybox)}&user=${U.write}`, 201);
  await callOk('POST', `/${F.write}/create-app?image=${encodeURIComponent(IMAGES.httpd)}&user=${U.write}`, 201);
  await callOk('POST', `/${F.write}/start-app?name=${FIX.running}`, 200);
  engineBefore = await engineSnapshot();
  fixturesBefore = await fixtureSnapshot();
});

afterAll(async () => {
  console.log(`fuzz run ${RUN} (seed ${SEED ?? 'random'}; budget ${BUDGET_MS} ms)\n${summary.join('\n')}`);
  await removeMine();
  await closeDb();
  rmSync(DATA_DIR, { recursive: true, force: true });
  rmSync(MARKER_FILE, { force: true });
});

// --- Properties -----------------------------------------------------------------------------
const postWithName = routes.filter((r) => r.meta.method === 'POST' && 'name' in r.meta.query);
const share = BUDGET_MS / (routes.length + postWithName.length + 1);
const PER_TEST_TIMEOUT = share * 4 + MIN_RUNS * 200 + 60_000;

describe('fuzz: generated requests over every route and parameter', () => {
  it.each(routes.map((r) => [r.meta.route, r] as const))(
    '%s: no 5xx, problem+json errors, nothing created or changed',
    async (name, route) => {
      const home = route.meta.method === 'GET' ? F.read : F.write;
      const tally = newTally();
      const db0 = await dbSnapshot();
      const prop = fc.asyncProperty(requestArb(route, home), async (req) => check(route, req, await send(req), tally));
      await runProperty(prop, share);
      record(name, tally);
      expect(await engineSnapshot()).toEqual(engineBefore);
      // GETs never write; POSTs that were all refused wrote nothing but audit entries.
      const db1 = await dbSnapshot();
      if ((route.meta.method === 'GET' || tally.successes === 0) && db0 !== undefined && db1 !== undefined) expect(db1).toEqual(db0);
      expect(tally.statuses.get(400) ?? 0, 'some requests were refused as invalid').toBeGreaterThan(0);
    },
    PER_TEST_TIMEOUT,
  );
});

describe('rejected requests naming real apps change nothing', () => {
  // Each request names a real (fixture) app, but something else makes it invalid.
  const invalidName = nameArb(U.write).filter((s) => !valid(appNameSchema, s) && !s.includes(','));
  const invalidTimeout = numberish.filter((s) => !valid(timeoutSchema, s));
  const fixtureArb = fc.constantFrom(FIX.created, FIX.running);

  function guardedArb(route: RouteFunction): fc.Arbitrary<Req & { expect: number[]; guard: string }> {
    const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
    const m = route.meta.method;
    const guards: fc.Arbitrary<Req & { expect: number[]; guard: string }>[] = [
      fc.tuple(fixtureArb, fc.array(invalidName, { minLength: 1, maxLength: 3 }), fc.boolean(), fc.constantFrom<Enc>('std', 'all', 'lower')).map(([n, bad, first, e]) => ({
        guard: 'batch with an invalid name',
        method: m,
        path: `/${F.write}/${route.meta.route}?name=${enc((first ? [n, ...bad] : [...bad, n]).join(','), e)}`,
        headers: admin,
        expect: [400],
      })),
      fc.tuple(fixtureArb, fc.uniqueArray(validName, { minLength: 50, maxLength: 55 })).map(([n, more]) => ({
        guard: 'batch over the limit',
        method: m,
        path: `/${F.write}/${route.meta.route}?name=${[n, ...more].join(',')}`,
        headers: admin,
        expect: [400],
      })),
      fc.tuple(fixtureArb, fixtureArb).map(([a, b]) => ({ guard: 'repeated name', method: m, path: `/${F.write}/${route.meta.route}?name=${a}&name=${b}`, headers: admin, expect: [400] })),
      fc.tuple(fixtureArb, fc.constantFrom('', 'revoked', 'garbage', 'uppercased')).map(([n, k]) => ({
        guard: `token: ${k || 'none'}`,
        method: m,
        path: `/${F.write}/${route.meta.route}?name=${n}`,
        headers: k === '' ? ({} as Record<string, string>) : { authorization: `Bearer ${k === 'revoked' ? tokens.revoked : k === 'garbage' ? 'src_garbage' : ADMIN_TOKEN.toUpperCase()}` },
        expect: [401],
      })),
      fc.tuple(fixtureArb, fc.constantFrom('other', 'obo-other', 'limited')).map(([n, k]) => ({
        guard: `not allowed: ${k}`,
        method: m,
        path: `/${F.write}/${route.meta.route}?name=${n}`,
        headers: k === 'other' ? { authorization: `Bearer ${tokens.other}` } : k === 'limited' ? { authorization: `Bearer ${tokens.limited}` } : { ...admin, 'x-on-behalf-of': U.other },
        expect: [403],
      })),
      fc
        .tuple(
          fixtureArb,
          hostile.map(headerSafe).filter((s) => s.trim() === s && !valid(userSchema, s)),
        )
        .map(([n, obo]) => ({
          guard: 'invalid X-On-Behalf-Of',
          method: m,
          path: `/${F.write}/${route.meta.route}?name=${n}`,
          headers: { ...admin, 'x-on-behalf-of': obo },
          expect: [400],
        })),
      fc.tuple(fixtureArb, fc.constantFrom('GET', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'FOO')).map(([n, meth]) => ({
        guard: `method ${meth}`,
        method: meth,
        path: `/${F.write}/${route.meta.route}?name=${n}`,
        headers: admin,
        expect: [405],
      })),
      fc.tuple(fixtureArb, fc.constantFrom(F.read, F.strict, 'nope', F.write.toUpperCase(), `${F.write}%00`, `..%2f${F.write}`, `${F.write}%20`)).map(([n, fac]) => ({
        guard: `facility ${fac}`,
        method: m,
        path: `/${fac}/${route.meta.route}?name=${n}`,
        headers: admin,
        expect: [404],
      })),
      fc
        .tuple(
          fixtureArb,
          fc.constantFrom('%00', '%20', '+', '%C0%AE', '%E2%80%AE', '%F0%9F%90%B3', '%2C', '%2C%2C', '%3B', '%24(touch%20' + encodeURIComponent(MARKER_FILE) + ')', '%0A', '%09', '%5C', '%2F..'),
          fc.boolean(),
        )
        .map(([n, t, pre]) => ({
          guard: `encoded suffix ${t}`,
          method: m,
          path: `/${F.write}/${route.meta.route}?name=${pre ? t + n : n + t}`,
          headers: admin,
          expect: [400],
        })),
      fixtureArb.map((n) => ({ guard: 'uppercase IMAGE', method: m, path: `/${F.write}/${route.meta.route}?name=${n[0].toUpperCase()}${n.slice(1)}`, headers: admin, expect: [400] })),
    ];
    if ('timeout' in route.meta.query) {
      guards.push(
        fc
          .tuple(fixtureArb, invalidTimeout)
          .map(([n, t]) => ({ guard: 'invalid timeout', method: m, path: `/${F.write}/${route.meta.route}?name=${n}&timeout=${enc(t, 'std')}`, headers: admin, expect: [400] })),
      );
    }
    return fc.oneof(...guards);
  }

  it.each(postWithName.map((r) => [r.meta.route, r] as const))(
    '%s: refused with the expected 4xx and the app untouched',
    async (name, route) => {
      const tally = newTally();
      const prop = fc.asyncProperty(guardedArb(route), async (req) => {
        const a = await send(req);
        check(route, req, a, tally);
        if (!req.expect.includes(a.status) && !(a.status === 414 && req.path.length > 8000))
          throw new Error(`${req.guard}: expected ${req.expect.join('/')}: ${show(req)} -> ${a.status} ${a.text.slice(0, 300)}`);
      });
      await runProperty(prop, share);
      record(`${name} (guarded)`, tally);
      expect(await fixtureSnapshot()).toEqual(fixturesBefore);
      expect(await engineSnapshot()).toEqual(engineBefore);
    },
    PER_TEST_TIMEOUT,
  );

  it(
    'create-app with a present image but a hostile, colliding or over-limit request creates nothing',
    async () => {
      const route = routes.find((r) => r.meta.route === 'create-app');
      if (!route) return;
      const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
      // References of images on the Engine; an image ID (sha256:…) parses as repository `sha256`.
      const busyboxRefs = [IMAGES.busybox, 'src-test/busybox', 'docker.io/src-test/busybox:latest', 'docker.io/src-test/busybox'];
      const httpdRefs = [IMAGES.httpd, 'src-test/httpd', 'docker.io/src-test/httpd:latest'];
      /** [image, user, facility] whose app name is a fixture's (in that facility or another). */
      const colliding = fc.oneof(
        fc.tuple(fc.constantFrom(...busyboxRefs), fc.constantFrom(U.write, U.read), fc.constantFrom(F.write, F.read)),
        fc.tuple(fc.constantFrom(...httpdRefs), fc.constant(U.write), fc.constantFrom(F.write, F.read)),
      );
      const refs = fc.constantFrom(...busyboxRefs, ...httpdRefs);
      /** A valid user that has no app (never a fixture's user, nor the other token's). */
      // names are unique regardless of case: 'W' would collide with U.write's app (409, not the 400 under test)
      const newUser = validUser.filter((u) => !Object.values(U).some((x) => x.toLowerCase() === u.toLowerCase()));
      const present = fc.constantFrom(...busyboxRefs, ...httpdRefs, imageId, imageId.replace('sha256:', ''), imageId.slice(7, 19));
      const badUser = valueArb('user').filter((u) => !/^[A-Za-z0-9_-]{1,32}$/.test(u) || u.includes('--') || u.startsWith('-') || u.endsWith('-'));
      const arb = fc.oneof(
        // a user that is not a valid user (shell, unicode, '--', long): 400 on user
        fc
          .tuple(present, badUser, fc.constantFrom<Enc>('std', 'all', 'lower', 'plus'))
          .map(([img, u, e]) => ({ path: `/${F.write}/create-app?image=${enc(img, e)}&user=${enc(u, e)}`, headers: admin, expect: [400] })),
        // the name of an existing app (here or in another facility): 409 (or 400 for an image ID)
        colliding.map(([img, u, fac]) => ({ path: `/${fac}/create-app?image=${enc(img, 'std')}&user=${u}`, headers: admin, expect: [409] })),
        // over the facility's maximum: 400 on that parameter
        fc
          .tuple(refs, newUser, fc.constantFrom(['memory', '257m'], ['memory', '1g'], ['memory', '9999999999999t'], ['cpus', '1.01'], ['cpus', '999'], ['pids', '201'], ['pids', '9999999']))
          .map(([img, u, [k, val]]) => ({
            path: `/${F.strict}/create-app?image=${enc(img, 'std')}&user=${u}&${k}=${val}`,
            headers: admin,
            expect: [400],
          })),
        // no maximum in the policy, but past what the Engine takes: 400 on that parameter, not on image
        fc.tuple(refs, newUser, fc.constantFrom(['memory', '9999999999999t'], ['memory', '1025t'], ['cpus', '999'], ['cpus', '999.999'])).map(([img, u, [k, val]]) => ({
          path: `/${F.write}/create-app?image=${enc(img, 'std')}&user=${u}&${k}=${val}`,
          headers: admin,
          expect: [400],
        })),
        // a valid new user, but the caller may not act for them
        fc.tuple(refs, newUser, fc.constantFrom('other', 'limited', 'obo', 'none')).map(([img, u, k]) => ({
          path: `/${F.write}/create-app?image=${enc(img, 'std')}&user=${u}`,
          headers:
            k === 'other'
              ? { authorization: `Bearer ${tokens.other}` }
              : k === 'limited'
                ? { authorization: `Bearer ${tokens.limited}` }
                : k === 'obo'
                  ? { ...admin, 'x-on-behalf-of': U.other }
                  : ({} as Record<string, string>),
          expect: k === 'none' ? [401] : [403],
        })),
      );
      const tally = newTally();
      const prop = fc.asyncProperty(arb, async (g) => {
        const req: Req = { method: 'POST', path: g.path, headers: g.headers };
        const a = await send(req);
        check(route, req, a, tally);
        if (!g.expect.includes(a.status) && !(a.status === 414 && req.path.length > 8000)) throw new Error(`expected ${g.expect.join('/')}: ${show(req)} -> ${a.status} ${a.text.slice(0, 300)}`);
        const over = /&(memory|cpus|pids)=/.exec(req.path)?.[1];
        if (over && a.status === 400 && a.body.parameter !== over) throw new Error(`an over-limit ${over} got a 400 naming ${a.body.parameter}: ${show(req)}`);
      });
      await runProperty(prop, share);
      record('create-app (present image)', tally);
      expect(await engineSnapshot()).toEqual(engineBefore);
      expect(await fixtureSnapshot()).toEqual(fixturesBefore);
    },
    PER_TEST_TIMEOUT,
  );
});

describe('after the fuzz run', () => {
  it('no shell ran, no container was created or changed, the fixtures are as they were', async () => {
    expect(existsSync(MARKER_FILE), `${MARKER_FILE} exists: a payload was executed`).toBe(false);
    expect(await engineSnapshot()).toEqual(engineBefore);
    expect(await fixtureSnapshot()).toEqual(fixturesBefore);
    const apps = (await engine.listContainers({ all: true, filters: { label: [LABELS.schema] } })).filter((c) => MY_FACILITIES.has(c.Labels?.[LABELS.facility]));
    expect(apps.map((c) => c.Names[0].slice(1)).sort()).toEqual([...FIXTURE_NAMES].sort());
  });
});
