/**
 * core/reference.ts against the test vectors of github.com/distribution/reference
 * (reference_test.go, normalize_test.go), the package the Engine and the docker CLI use.
 * Each block names the Go test its vectors come from. Where our API differs from Go's
 * (no ParseAnyReference: a bare image ID is not a reference here; patterns add `**`), the
 * test says so.
 */
import { describe, expect, it } from 'vitest';
import {
  compileImagePattern,
  familiarName,
  familiarString,
  imagePatternMatches,
  parseDockerRef,
  parseImageReference,
  parseNormalizedNamed,
  parseReference,
  referenceString,
  REFERENCE_ERRORS as E,
} from '../../core/reference.ts';

const F64 = 'f'.repeat(64);
const F128 = 'f'.repeat(128);
const fullName = (p: { domain: string; path: string }) => (p.domain ? `${p.domain}/${p.path}` : p.path);

describe('TestReferenceParse (Parse)', () => {
  type Case = { input: string; err?: string; repository?: string; domain?: string; tag?: string; digest?: string };
  const cases: Case[] = [
    { input: 'test_com', repository: 'test_com' },
    { input: 'test.com:tag', repository: 'test.com', tag: 'tag' },
    { input: 'test.com:5000', repository: 'test.com', tag: '5000' },
    { input: 'test.com/repo:tag', domain: 'test.com', repository: 'test.com/repo', tag: 'tag' },
    { input: 'test:5000/repo', domain: 'test:5000', repository: 'test:5000/repo' },
    { input: 'test:5000/repo:tag', domain: 'test:5000', repository: 'test:5000/repo', tag: 'tag' },
    { input: `test:5000/repo@sha256:${F64}`, domain: 'test:5000', repository: 'test:5000/repo', digest: `sha256:${F64}` },
    { input: `test:5000/repo:tag@sha256:${F64}`, domain: 'test:5000', repository: 'test:5000/repo', tag: 'tag', digest: `sha256:${F64}` },
    { input: '', err: E.nameEmpty },
    { input: ':justtag', err: E.invalidFormat },
    { input: `@sha256:${F64}`, err: E.invalidFormat },
    { input: `repo@sha256:${'f'.repeat(34)}`, err: E.digestInvalidLength },
    { input: `validname@invaliddigest:${F64}`, err: E.digestUnsupported },
    { input: 'Uppercase:tag', err: E.nameContainsUppercase },
    // Go: FIXME "Uppercase/lowercase:tag" is handled as a domain name there, so it passes.
    { input: 'test:5000/Uppercase/lowercase:tag', err: E.nameContainsUppercase },
    { input: 'lowercase:Uppercase', repository: 'lowercase', tag: 'Uppercase' },
    { input: 'a/'.repeat(128) + 'a:tag', err: E.nameTooLong },
    { input: 'a/'.repeat(127) + 'a:tag-puts-this-over-max', domain: 'a', repository: 'a/'.repeat(127) + 'a', tag: 'tag-puts-this-over-max' },
    { input: 'aa/asdf$$^/aa', err: E.invalidFormat },
    { input: 'sub-dom1.foo.com/bar/baz/quux', domain: 'sub-dom1.foo.com', repository: 'sub-dom1.foo.com/bar/baz/quux' },
    { input: 'sub-dom1.foo.com/bar/baz/quux:some-long-tag', domain: 'sub-dom1.foo.com', repository: 'sub-dom1.foo.com/bar/baz/quux', tag: 'some-long-tag' },
    { input: 'b.gcr.io/test.example.com/my-app:test.example.com', domain: 'b.gcr.io', repository: 'b.gcr.io/test.example.com/my-app', tag: 'test.example.com' },
    { input: 'xn--n3h.com/myimage:xn--n3h.com', domain: 'xn--n3h.com', repository: 'xn--n3h.com/myimage', tag: 'xn--n3h.com' },
    {
      input: `xn--7o8h.com/myimage:xn--7o8h.com@sha512:${F128}`,
      domain: 'xn--7o8h.com',
      repository: 'xn--7o8h.com/myimage',
      tag: 'xn--7o8h.com',
      digest: `sha512:${F128}`,
    },
    { input: 'foo_bar.com:8080', repository: 'foo_bar.com', tag: '8080' },
    { input: 'foo/foo_bar.com:8080', domain: 'foo', repository: 'foo/foo_bar.com', tag: '8080' },
    { input: '192.168.1.1', repository: '192.168.1.1' },
    { input: '192.168.1.1:tag', repository: '192.168.1.1', tag: 'tag' },
    { input: '192.168.1.1:5000', repository: '192.168.1.1', tag: '5000' },
    { input: '192.168.1.1/repo', domain: '192.168.1.1', repository: '192.168.1.1/repo' },
    { input: '192.168.1.1:5000/repo', domain: '192.168.1.1:5000', repository: '192.168.1.1:5000/repo' },
    { input: '192.168.1.1:5000/repo:5050', domain: '192.168.1.1:5000', repository: '192.168.1.1:5000/repo', tag: '5050' },
    { input: '[2001:db8::1]', err: E.invalidFormat },
    { input: '[2001:db8::1]:5000', err: E.invalidFormat },
    { input: '[2001:db8::1]:tag', err: E.invalidFormat },
    { input: '[2001:db8::1]/repo', domain: '[2001:db8::1]', repository: '[2001:db8::1]/repo' },
    { input: '[2001:db8:1:2:3:4:5:6]/repo:tag', domain: '[2001:db8:1:2:3:4:5:6]', repository: '[2001:db8:1:2:3:4:5:6]/repo', tag: 'tag' },
    { input: '[2001:db8::1]:5000/repo', domain: '[2001:db8::1]:5000', repository: '[2001:db8::1]:5000/repo' },
    { input: '[2001:db8::1]:5000/repo:tag', domain: '[2001:db8::1]:5000', repository: '[2001:db8::1]:5000/repo', tag: 'tag' },
    { input: `[2001:db8::1]:5000/repo@sha256:${F64}`, domain: '[2001:db8::1]:5000', repository: '[2001:db8::1]:5000/repo', digest: `sha256:${F64}` },
    {
      input: `[2001:db8::1]:5000/repo:tag@sha256:${F64}`,
      domain: '[2001:db8::1]:5000',
      repository: '[2001:db8::1]:5000/repo',
      tag: 'tag',
      digest: `sha256:${F64}`,
    },
    { input: '[2001:db8::]:5000/repo', domain: '[2001:db8::]:5000', repository: '[2001:db8::]:5000/repo' },
    { input: '[::1]:5000/repo', domain: '[::1]:5000', repository: '[::1]:5000/repo' },
    { input: '[fe80::1%eth0]:5000/repo', err: E.invalidFormat },
    { input: '[fe80::1%@invalidzone]:5000/repo', err: E.invalidFormat },
  ];
  it.each(cases)('$input', (tc) => {
    if (tc.err) {
      expect(() => parseReference(tc.input)).toThrow(tc.err);
      return;
    }
    const r = parseReference(tc.input);
    expect(referenceString(r)).toBe(tc.input);
    expect(fullName(r)).toBe(tc.repository);
    expect(r.domain).toBe(tc.domain ?? '');
    expect(r.tag).toBe(tc.tag);
    expect(r.digest).toBe(tc.digest);
  });
});

describe('TestWithNameFailure', () => {
  it.each(['', ':justtag', `@sha256:${F64}`, `validname@invaliddigest:${F64}`, 'a/'.repeat(128) + 'a:tag', 'aa/asdf$$^/aa'])('%j is refused', (input) => {
    expect(() => parseReference(input)).toThrow();
  });
});

describe('TestDomainAndPath', () => {
  it.each([
    ['test.com/foo', 'test.com', 'foo'],
    ['test_com/foo', '', 'test_com/foo'],
    ['test:8080/foo', 'test:8080', 'foo'],
    ['test.com:8080/foo', 'test.com:8080', 'foo'],
    ['test-com:8080/foo', 'test-com:8080', 'foo'],
    ['xn--n3h.com:18080/foo', 'xn--n3h.com:18080', 'foo'],
  ])('%s -> domain %j, path %j', (input, domain, path) => {
    expect(parseReference(input)).toEqual({ domain, path });
  });
});

describe('TestSerialization (round trip)', () => {
  it.each([
    ['example.com:8000/named', 'example.com:8000/named', undefined, undefined],
    ['example.com:8000/named:tagged', 'example.com:8000/named', 'tagged', undefined],
    [
      'other.com/named@sha256:1234567890098765432112345667890098765432112345667890098765432112',
      'other.com/named',
      undefined,
      'sha256:1234567890098765432112345667890098765432112345667890098765432112',
    ],
  ])('%s', (input, name, tag, digest) => {
    const r = parseReference(input);
    expect(fullName(r)).toBe(name);
    expect(r.tag).toBe(tag);
    expect(r.digest).toBe(digest);
    expect(referenceString(r)).toBe(input);
  });
  it('empty value', () => expect(() => parseReference('')).toThrow(E.nameEmpty));
});

describe('TestParseNamed (canonical names)', () => {
  const canonical = (s: string) => referenceString(parseNormalizedNamed(s)) === s;
  it.each([
    ['test.com/foo', 'test.com', 'foo'],
    ['test:8080/foo', 'test:8080', 'foo'],
    ['docker.io/library/foo', 'docker.io', 'library/foo'],
  ])('%s is canonical', (input, domain, path) => {
    expect(canonical(input)).toBe(true);
    expect(parseNormalizedNamed(input)).toMatchObject({ domain, path });
  });
  it.each(['test_com/foo', 'test.com', 'foo', 'library/foo', 'docker.io/foo'])('%s is not canonical', (input) => {
    expect(canonical(input)).toBe(false);
  });
});

describe('TestValidateReferenceName (ParseNormalizedNamed)', () => {
  it.each([
    'docker/docker',
    'library/debian',
    'debian',
    'docker.io/docker/docker',
    'docker.io/library/debian',
    'docker.io/debian',
    'index.docker.io/docker/docker',
    'index.docker.io/library/debian',
    'index.docker.io/debian',
    '127.0.0.1:5000/docker/docker',
    '127.0.0.1:5000/library/debian',
    '127.0.0.1:5000/debian',
    '192.168.0.1',
    '192.168.0.1:80',
    '192.168.0.1:8/debian',
    '192.168.0.2:25000/debian',
    'thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev',
    '[fc00::1]:5000/docker',
    '[fc00::1]:5000/docker/docker',
    '[fc00:1:2:3:4:5:6:7]:5000/library/debian',
    'docker.io/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a',
    'Docker/docker',
    'DOCKER/docker',
  ])('valid: %s', (name) => expect(() => parseNormalizedNamed(name)).not.toThrow());
  it.each([
    'https://github.com/docker/docker',
    'docker/Docker',
    '-docker',
    '-docker/docker',
    '-docker.io/docker/docker',
    'docker///docker',
    'docker.io/docker/Docker',
    'docker.io/docker///docker',
    '[fc00::1]',
    '[fc00::1]:5000',
    'fc00::1:5000/debian',
    '[fe80::1%eth0]:5000/debian',
    '[2001:db8:3:4::192.0.2.33]:5000/debian',
    '1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a',
  ])('invalid: %s', (name) => expect(() => parseNormalizedNamed(name)).toThrow());
});

describe('TestValidateRemoteName', () => {
  it.each(['docker/docker', 'thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev', 'docker-rules/docker', 'docker---rules/docker', 'doc/docker', 'd/docker', 'jess/t', 'dock__er/docker'])(
    'valid: %s',
    (name) => expect(() => parseNormalizedNamed(name)).not.toThrow(),
  );
  it.each([
    'docker/Docker',
    'docker///docker',
    '1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a',
    '-docker/docker',
    'docker-/docker',
    '-docker-/docker',
    '____/____',
    '_docker/_docker',
    'dock..er/docker',
    'dock_.er/docker',
    'dock-.er/docker',
    'docker/',
    'this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255/docker',
  ])('invalid: %s', (name) => expect(() => parseNormalizedNamed(name)).toThrow());
});

describe('TestParseRepositoryInfo', () => {
  const cases = [
    { RemoteName: 'fooo/bar', FamiliarName: 'fooo/bar', FullName: 'docker.io/fooo/bar', AmbiguousName: 'index.docker.io/fooo/bar', Domain: 'docker.io' },
    { RemoteName: 'library/ubuntu', FamiliarName: 'ubuntu', FullName: 'docker.io/library/ubuntu', AmbiguousName: 'library/ubuntu', Domain: 'docker.io' },
    { RemoteName: 'nonlibrary/ubuntu', FamiliarName: 'nonlibrary/ubuntu', FullName: 'docker.io/nonlibrary/ubuntu', AmbiguousName: '', Domain: 'docker.io' },
    { RemoteName: 'other/library', FamiliarName: 'other/library', FullName: 'docker.io/other/library', AmbiguousName: '', Domain: 'docker.io' },
    { RemoteName: 'private/moonbase', FamiliarName: '127.0.0.1:8000/private/moonbase', FullName: '127.0.0.1:8000/private/moonbase', AmbiguousName: '', Domain: '127.0.0.1:8000' },
    { RemoteName: 'privatebase', FamiliarName: '127.0.0.1:8000/privatebase', FullName: '127.0.0.1:8000/privatebase', AmbiguousName: '', Domain: '127.0.0.1:8000' },
    { RemoteName: 'private/moonbase', FamiliarName: 'example.com/private/moonbase', FullName: 'example.com/private/moonbase', AmbiguousName: '', Domain: 'example.com' },
    { RemoteName: 'privatebase', FamiliarName: 'example.com/privatebase', FullName: 'example.com/privatebase', AmbiguousName: '', Domain: 'example.com' },
    { RemoteName: 'private/moonbase', FamiliarName: 'example.com:8000/private/moonbase', FullName: 'example.com:8000/private/moonbase', AmbiguousName: '', Domain: 'example.com:8000' },
    { RemoteName: 'privatebasee', FamiliarName: 'example.com:8000/privatebasee', FullName: 'example.com:8000/privatebasee', AmbiguousName: '', Domain: 'example.com:8000' },
    {
      RemoteName: 'library/ubuntu-12.04-base',
      FamiliarName: 'ubuntu-12.04-base',
      FullName: 'docker.io/library/ubuntu-12.04-base',
      AmbiguousName: 'index.docker.io/library/ubuntu-12.04-base',
      Domain: 'docker.io',
    },
    { RemoteName: 'library/foo', FamiliarName: 'foo', FullName: 'docker.io/library/foo', AmbiguousName: 'docker.io/foo', Domain: 'docker.io' },
    { RemoteName: 'library/foo/bar', FamiliarName: 'library/foo/bar', FullName: 'docker.io/library/foo/bar', AmbiguousName: '', Domain: 'docker.io' },
    { RemoteName: 'store/foo/bar', FamiliarName: 'store/foo/bar', FullName: 'docker.io/store/foo/bar', AmbiguousName: '', Domain: 'docker.io' },
    { RemoteName: 'bar', FamiliarName: 'Foo/bar', FullName: 'Foo/bar', AmbiguousName: '', Domain: 'Foo' },
    { RemoteName: 'bar', FamiliarName: 'FOO/bar', FullName: 'FOO/bar', AmbiguousName: '', Domain: 'FOO' },
  ];
  const rows = cases.flatMap((tc, i) => [tc.FamiliarName, tc.FullName, ...(tc.AmbiguousName ? [tc.AmbiguousName] : [])].map((r) => [`${i}/${r}`, r, tc] as const));
  it.each(rows)('%s', (_, r, tc) => {
    const named = parseNormalizedNamed(r);
    expect(familiarName(named)).toBe(tc.FamiliarName);
    expect(referenceString(named)).toBe(tc.FullName);
    expect(named.domain).toBe(tc.Domain);
    expect(named.path).toBe(tc.RemoteName);
  });
});

describe('TestParseReferenceWithTagAndDigest', () => {
  it('keeps both in ParseNormalizedNamed; the familiar string drops docker.io/library', () => {
    const shortRef = 'busybox:latest@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa';
    const ref = parseNormalizedNamed(shortRef);
    expect(referenceString(ref)).toBe('docker.io/library/' + shortRef);
    expect(ref.tag).toBe('latest');
    expect(ref.digest).toBe('sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa');
    expect(familiarString(ref)).toBe(shortRef);
  });
});

describe('TestInvalidReferenceComponents', () => {
  it('-foo is not a name', () => expect(() => parseNormalizedNamed('-foo')).toThrow());
  it('busybox:-foo is not a tag, busybox@foo not a digest', () => {
    expect(() => parseNormalizedNamed('busybox:-foo')).toThrow();
    expect(() => parseNormalizedNamed('busybox@foo')).toThrow();
  });
});

describe('TestParseAnyReference (named references)', () => {
  const D = 'sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c';
  it.each([
    ['redis', 'docker.io/library/redis'],
    ['redis:latest', 'docker.io/library/redis:latest'],
    ['docker.io/library/redis:latest', 'docker.io/library/redis:latest'],
    [`redis@${D}`, `docker.io/library/redis@${D}`],
    [`docker.io/library/redis@${D}`, `docker.io/library/redis@${D}`],
    ['dmcgowan/myapp', 'docker.io/dmcgowan/myapp'],
    ['dmcgowan/myapp:latest', 'docker.io/dmcgowan/myapp:latest'],
    ['docker.io/mcgowan/myapp:latest', 'docker.io/mcgowan/myapp:latest'],
    [`dmcgowan/myapp@${D}`, `docker.io/dmcgowan/myapp@${D}`],
    [`docker.io/dmcgowan/myapp@${D}`, `docker.io/dmcgowan/myapp@${D}`],
    ['dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9', 'docker.io/library/dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9'],
    ['dbcc1', 'docker.io/library/dbcc1'],
  ])('%s -> %s', (input, equivalent) => {
    expect(referenceString(parseNormalizedNamed(input))).toBe(equivalent);
    expect(parseReference(equivalent)).toEqual(parseNormalizedNamed(input));
  });
  it.each([D.slice(7), D])('%s (an image ID or bare digest, which Go parses as a digest reference) is not an image reference here', (input) => {
    expect(() => parseImageReference(input)).toThrow();
  });
});

describe('TestNormalizedSplitHostname', () => {
  it.each([
    ['test.com/foo', 'test.com', 'foo'],
    ['test_com/foo', 'docker.io', 'test_com/foo'],
    ['docker/migrator', 'docker.io', 'docker/migrator'],
    ['test.com:8080/foo', 'test.com:8080', 'foo'],
    ['test-com:8080/foo', 'test-com:8080', 'foo'],
    ['foo', 'docker.io', 'library/foo'],
    ['xn--n3h.com/foo', 'xn--n3h.com', 'foo'],
    ['xn--n3h.com:18080/foo', 'xn--n3h.com:18080', 'foo'],
    ['docker.io/foo', 'docker.io', 'library/foo'],
    ['docker.io/library/foo', 'docker.io', 'library/foo'],
    ['docker.io/library/foo/bar', 'docker.io', 'library/foo/bar'],
  ])('%s -> %s + %s', (input, domain, path) => {
    expect(parseNormalizedNamed(input)).toEqual({ domain, path });
  });
});

describe('TestParseDockerRef (what approvals key on)', () => {
  const D = 'sha256:e6693c20186f837fc393390135d8a598a96a833917917789d63766cab6c59582';
  it.each([
    ['nothing', 'busybox', 'docker.io/library/busybox:latest'],
    ['tag only', 'busybox:latest', 'docker.io/library/busybox:latest'],
    ['digest only', `busybox@${D}`, `docker.io/library/busybox@${D}`],
    ['path only', 'library/busybox', 'docker.io/library/busybox:latest'],
    ['hostname only', 'docker.io/busybox', 'docker.io/library/busybox:latest'],
    ['no tag', 'docker.io/library/busybox', 'docker.io/library/busybox:latest'],
    ['no path', 'docker.io/busybox:latest', 'docker.io/library/busybox:latest'],
    ['no hostname', 'library/busybox:latest', 'docker.io/library/busybox:latest'],
    ['full reference with tag', 'docker.io/library/busybox:latest', 'docker.io/library/busybox:latest'],
    ['gcr reference without tag', 'gcr.io/library/busybox', 'gcr.io/library/busybox:latest'],
    ['both tag and digest', `gcr.io/library/busybox:latest@${D}`, `gcr.io/library/busybox@${D}`],
  ])('%s: %s -> %s', (_, input, expected) => {
    const out = referenceString(parseDockerRef(input));
    expect(out).toBe(expected);
    expect(() => parseReference(out)).not.toThrow();
    expect(parseImageReference(input).normalized).toBe(expected);
  });
});

describe('TestMatch (FamiliarMatch) and our `**`', () => {
  it.each([
    ['foo', 'foo/**/ba[rz]', false],
    ['foo/any/bat', 'foo/**/ba[rz]', false],
    ['foo/a/bar', 'foo/**/ba[rz]', true],
    ['foo/b/baz', 'foo/**/ba[rz]', true],
    ['foo/c/baz:tag', 'foo/**/ba[rz]', true],
    ['foo/c/baz:tag', 'foo/*/baz:tag', true],
    ['foo/c/baz:tag', 'foo/c/baz:tag', true],
    ['example.com/foo/c/baz:tag', '*/foo/c/baz', true],
    ['example.com/foo/c/baz:tag', 'example.com/foo/c/baz', true],
  ])('%s ~ %s: %s', (reference, pattern, expected) => {
    expect(imagePatternMatches(pattern, parseImageReference(reference))).toBe(expected);
  });
  it('TestMatchError: a malformed pattern is an error', () => {
    expect(() => compileImagePattern('[-x]')).toThrow(/character class/);
  });
  it.each([
    // ours: `*` stays inside one path component, `**` crosses them
    ['127.0.0.1:5999/a/jupyter-lab:1.2', '127.0.0.1:5999/*', false],
    ['127.0.0.1:5999/a/jupyter-lab:1.2', '127.0.0.1:5999/**', true],
    ['127.0.0.1:5999/busybox', '127.0.0.1:5999/*', true],
    ['src-test/busybox', 'docker.io/src-test/*', true],
    ['src-test/busybox:latest', 'src-test/*', true],
    ['docker.io/src-test/deep/busybox', 'docker.io/src-test/*', false],
    ['src-test-other/busybox', 'docker.io/src-test/*', false],
    ['busybox:1.36', 'busybox', true],
    ['busybox:1.36', 'busybox:1.3?', true],
    ['busybox:1.36', 'busybox:1.35', false],
    ['busybox', 'docker.io/library/busybox:latest', true],
    [`busybox@sha256:${F64}`, 'busybox@sha256:*', true],
    ['127.0.0.1:5001/x:1', '127.0.0.1:500[0-2]/*', true],
    ['127.0.0.1:5003/x:1', '127.0.0.1:500[^3]/*', false],
    ['anything/at/all:1', '**', true],
  ])('%s ~ %s: %s', (reference, pattern, expected) => {
    expect(imagePatternMatches(pattern, parseImageReference(reference))).toBe(expected);
  });
  it.each(['', '[a', 'a]', 'a\\', '[z-a]', 'a b', 'x$(id)'])('refuses the pattern %j', (p) => {
    expect(() => compileImagePattern(p)).toThrow();
  });
});

describe('tags that look like digests', () => {
  it('a 32+ hex tag on a repository named like an algorithm is still a tag', () => {
    expect(parseImageReference(`myimage:${'0123456789abcdef'.repeat(2)}`).tag).toBe('0123456789abcdef'.repeat(2));
    expect(parseImageReference(`sha256:${'ab'.repeat(16)}`).normalized).toBe(`docker.io/library/sha256:${'ab'.repeat(16)}`);
  });
});
