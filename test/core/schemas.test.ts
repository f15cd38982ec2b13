import { describe, expect, it } from 'vitest';
import * as v from 'valibot';
import { appNameSchema, appNamesSchema, durationSchema, hostnameSchema, imageReferenceSchema, timeoutSchema, userSchema, BATCH_MAX } from '../../core/schemas.ts';
import { appNameFor, splitAppName } from '../../core/naming.ts';
import { parseImageReference } from '../../core/reference.ts';

const ok = (s: v.GenericSchema, x: unknown) => v.safeParse(s, x).success;
const why = (s: v.GenericSchema, x: unknown) => {
  const r = v.safeParse(s, x);
  return r.success ? '' : r.issues[0].message;
};

describe('userSchema', () => {
  it.each(['alice', 'A_1', 'a-b', 'a_', '_a', 'x'.repeat(32), '9'])('accepts %j', (u) => expect(ok(userSchema, u)).toBe(true));
  it.each([
    ['', 'must not be empty'],
    ['a--b', "'--'"],
    ['-a', "'-'"],
    ['a-', "'-'"],
    ['x'.repeat(33), 'at most 32'],
    ['a.b', 'letters'],
    ['a b', 'letters'],
    ['ä', 'letters'],
    ['a;rm', 'letters'],
    ['$(id)', 'letters'],
  ])('refuses %j (%s)', (u, rule) => expect(why(userSchema, u)).toContain(rule));
});

describe('appNameSchema', () => {
  it.each(['busybox--alice', 'jupyter-lab--john', 'a.b--c', 'a__b--c_d', 'a-b--c', 'x--y-z'])('accepts %j', (n) => expect(ok(appNameSchema, n)).toBe(true));
  it.each(['busybox', 'busybox--', '--alice', 'Busybox--alice', 'busybox---alice', 'a--b--', 'x'.repeat(60) + '--abc1', 'a--b c', 'busybox-' + '-alice-'])('refuses %j', (n) =>
    expect(ok(appNameSchema, n)).toBe(false),
  );
  it('splits at the last --', () => {
    expect(splitAppName('a--b--c')).toEqual({ image: 'a--b', user: 'c' });
  });
});

describe('appNamesSchema (batch)', () => {
  it('splits, deduplicates and validates each name', () => {
    expect(v.parse(appNamesSchema, 'a--b,c--d,a--b')).toEqual(['a--b', 'c--d']);
    expect(ok(appNamesSchema, 'a--b,,c--d')).toBe(false);
    expect(why(appNamesSchema, Array.from({ length: BATCH_MAX + 1 }, (_, i) => `a--u${i}`).join(','))).toContain(`at most ${BATCH_MAX}`);
  });
});

describe('timeout, duration, hostname', () => {
  it('timeout: whole seconds 0..300', () => {
    expect(v.parse(timeoutSchema, '0')).toBe(0);
    expect(v.parse(timeoutSchema, '300')).toBe(300);
    for (const bad of ['-1', '301', '1.5', 'x', '', '1e2']) expect(ok(timeoutSchema, bad)).toBe(false);
  });
  it('duration: hour|day|week|month', () => {
    expect(ok(durationSchema, 'week')).toBe(true);
    expect(why(durationSchema, 'year')).toContain("'hour'");
  });
  it('hostname', () => {
    expect(ok(hostnameSchema, 'localhost.server2')).toBe(true);
    expect(ok(hostnameSchema, 'bad host')).toBe(false);
    expect(ok(hostnameSchema, 'a'.repeat(254))).toBe(false);
  });
});

describe('image references and app names', () => {
  it.each([
    ['busybox', 'busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['busybox:latest', 'busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['127.0.0.1:5000/team/jupyter-lab:1.2', 'jupyter-lab', '127.0.0.1:5000/team/jupyter-lab:1.2', '127.0.0.1:5000/team/jupyter-lab:1.2'],
    ['localhost/foo', 'foo', 'localhost/foo:latest', 'localhost/foo:latest'],
    ['src-test/httpd', 'httpd', 'docker.io/src-test/httpd:latest', 'src-test/httpd:latest'],
    ['docker.io/library/xterm:1', 'xterm', 'docker.io/library/xterm:1', 'xterm:1'],
    [`r.example.org/a/b/c@sha256:${'a'.repeat(64)}`, 'c', `r.example.org/a/b/c@sha256:${'a'.repeat(64)}`, `r.example.org/a/b/c@sha256:${'a'.repeat(64)}`],
  ])('%s -> IMAGE %s, normalised %s', (given, name, normalized, familiar) => {
    const r = parseImageReference(given);
    expect(r.name).toBe(name);
    expect(r.normalized).toBe(normalized);
    expect(r.familiar).toBe(familiar);
    expect(appNameFor(r, 'alice')).toBe(`${name}--alice`);
  });
  it.each(['UPPER', 'a:b:c', 'x$(touch /tmp/p)', 'foo/', ':tag', 'a'.repeat(256)])('refuses %j', (bad) => {
    expect(why(imageReferenceSchema, bad)).toMatch(/image reference|at most/);
  });
  it('refuses app names over 63 characters', () => {
    expect(() => appNameFor(parseImageReference('b'.repeat(40)), 'u'.repeat(30))).toThrow(/63/);
  });
});
