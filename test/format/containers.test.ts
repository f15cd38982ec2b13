/**
 * formatContainerSummary against recorded Engine responses and the docker CLI 28's own output
 * for them (test/fixtures/engine/format-containers.json: `GET /containers/json?all=1[&size=1]`
 * and `docker ps -a [-s|--no-trunc] --format json` under TZ=UTC, Europe/Berlin, America/New_York).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { containerImage, containerNames, displayablePorts, formatContainerSummary, type ContainerSummaryJson, type EngineContainerSummary } from '../../core/format/containers.ts';
import { cliJsonLine, ellipsis } from '../../core/format/go.ts';
import { familiarString, parseNormalizedNamed } from '../../core/format/reference.ts';
import { zoneAbbreviation } from '../../core/format/time.ts';
import { timeAgo } from '../../core/format/units.ts';

interface Fixture {
  recordedAtMs: number;
  list: EngineContainerSummary[];
  listSize: EngineContainerSummary[];
  cli: Record<string, { plain: string; size: string; noTrunc: string }>;
}
const fx = JSON.parse(readFileSync(new URL('../fixtures/engine/format-containers.json', import.meta.url), 'utf8')) as Fixture;

const lines = (s: string): string[] => s.split('\n').filter(Boolean);

/** RunningFor values the CLI could have printed between `from` and `to` (ms). */
function agoWindow(created: number, from: number, to: number): Set<string> {
  const out = new Set<string>();
  for (let t = from; t <= to; t += 100) out.add(timeAgo(created, new Date(t)));
  return out;
}

describe('formatContainerSummary vs recorded docker ps output', () => {
  const variants = [
    ['plain', fx.list, {}],
    ['size', fx.listSize, {}],
    ['noTrunc', fx.list, { trunc: false }],
  ] as const;
  for (const tz of Object.keys(fx.cli)) {
    for (const [variant, list, extra] of variants) {
      it(`${variant} under TZ=${tz}: same bytes except the relative times`, () => {
        const cli = lines(fx.cli[tz][variant]);
        expect(cli.length).toBe(list.length);
        expect(cli.length).toBeGreaterThanOrEqual(13);
        for (const line of cli) {
          const want = JSON.parse(line) as ContainerSummaryJson;
          const c = list.find((x) => want.ID === x.Id || x.Id.startsWith(want.ID));
          expect(c, want.Names).toBeDefined();
          const got = formatContainerSummary(c!, { ...extra, timeZone: tz, now: new Date(fx.recordedAtMs) });
          expect(Object.keys(got)).toEqual(Object.keys(want));
          // RunningFor: computed at the CLI's own "now", a second or two after the recording
          expect(agoWindow(c!.Created, fx.recordedAtMs - 1000, fx.recordedAtMs + 5000)).toContain(want.RunningFor);
          // Status: the Engine's string, taken from a different list call than the CLI's
          if (/\d/.test(want.Status)) expect(got.Status.replace(/\d+|Less than a second/g, 'N')).toBe(want.Status.replace(/\d+|Less than a second/g, 'N'));
          else expect(got.Status).toBe(want.Status);
          // Mounts: the Engine lists a container's mounts in random (Go map) order on each call
          expect(got.Mounts.split(',').sort()).toEqual(want.Mounts.split(',').sort());
          // everything else byte for byte, through the CLI's JSON encoding
          expect(cliJsonLine({ ...got, RunningFor: want.RunningFor, Status: want.Status, Mounts: want.Mounts })).toBe(line + '\n');
        }
      });
    }
  }

  it('the local zone is used when no timeZone is given', () => {
    const saved = process.env.TZ;
    try {
      process.env.TZ = 'Europe/Berlin';
      const c = fx.list[0];
      const want = JSON.parse(lines(fx.cli['Europe/Berlin'].plain).find((l) => l.includes(c.Id.slice(0, 12)))!);
      expect(formatContainerSummary(c).CreatedAt).toBe(want.CreatedAt);
      expect(want.CreatedAt).toMatch(/ \+0100 CET$/);
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });

  it('a container formatted again, in another local zone, or changed under its ID, gets the right values (the per-ID memo)', () => {
    const saved = process.env.TZ;
    try {
      const c = fx.list[0];
      const wantIn = (tz: string) => JSON.parse(lines(fx.cli[tz].plain).find((l) => l.includes(c.Id.slice(0, 12)))!) as ContainerSummaryJson;
      process.env.TZ = 'UTC';
      const first = formatContainerSummary(c);
      expect(formatContainerSummary(structuredClone(c))).toEqual(first);
      expect(first.CreatedAt).toBe(wantIn('UTC').CreatedAt);
      process.env.TZ = 'America/New_York';
      expect(formatContainerSummary(c).CreatedAt).toBe(wantIn('America/New_York').CreatedAt);
      // the memo holds only while ID, Created and Command match
      const other = { ...c, Created: c.Created - 3600, Command: 'echo other', Labels: { a: '1' } };
      const got = formatContainerSummary(other);
      expect(got.CreatedAt).toBe(formatContainerSummary(other, { timeZone: 'America/New_York' }).CreatedAt);
      expect(got.CreatedAt).not.toBe(wantIn('America/New_York').CreatedAt);
      expect(got.Command).toBe('"echo other"');
      expect(got.Labels).toBe('a=1');
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });

  it('recorded cases cover what they claim', () => {
    const utc = lines(fx.cli.UTC.plain).map((l) => JSON.parse(l) as ContainerSummaryJson);
    const size = lines(fx.cli.UTC.size).map((l) => JSON.parse(l) as ContainerSummaryJson);
    const by = (n: string): ContainerSummaryJson => utc.find((x) => x.Names === n)!;
    expect(by('fmtprobe-p2').Status).toMatch(/^Up .* \(Paused\)$/);
    expect(by('fmtprobe-size').Status).toMatch(/^Exited \(0\) /);
    expect(by('fmtprobe-b').Status).toBe('Created');
    expect(by('fmtprobe-a').Names).toBe('fmtprobe-a'); // its link name fmtprobe-l/alias is dropped
    expect(by('fmtprobe-p1').Ports).toBe(
      '81-83/tcp, 0.0.0.0:32770->80/tcp, [::]:32769->80/tcp, 127.0.0.1:9000->90/udp, 127.0.0.1:9001->91/udp, 127.0.0.1:9100->100/tcp, 0.0.0.0:32769->443/tcp, [::]:32768->443/tcp',
    );
    expect(by('fmtprobe-m').Command).toBe(`"sh -c 'echo 日本語…"`);
    expect(by('fmtprobe-m').Mounts.split(',').sort()).toEqual(['/tmp', 'fmtprobe-avery…']);
    expect(by('fmtprobe-m').LocalVolumes).toBe('1');
    expect(by('fmtprobe-id').Image).toBe('f07284136c40');
    expect(by('fmtprobe-id2').Image).toBe('f07284136c40');
    expect(by('fmtprobe-l').Image).toBe('src-test/busybox');
    expect(by('fmtprobe-dio').Image).toBe('src-test/busybox:latest');
    expect(by('fmtprobe-esc').Command).toBe('"sh -c a\\bb\\fc\\x01\\x7fd\\u00a0e"');
    // --format json does not request sizes; -s does
    expect(by('fmtprobe-size').Size).toBe('0B');
    expect(size.find((x) => x.Names === 'fmtprobe-size')!.Size).toBe('1e+03kB (virtual 2.98MB)');
    expect(utc.every((x) => x.Platform === null)).toBe(true);
  });
});

describe('container column helpers', () => {
  it('DisplayablePorts groups ranges, brackets IPv6, lists remaps last', () => {
    expect(displayablePorts([])).toBe('');
    expect(displayablePorts(null)).toBe('');
    expect(
      displayablePorts([
        { PrivatePort: 9090, Type: 'tcp' },
        { IP: '0.0.0.0', PrivatePort: 80, PublicPort: 80, Type: 'tcp' },
        { IP: '0.0.0.0', PrivatePort: 81, PublicPort: 81, Type: 'tcp' },
        { IP: '::', PrivatePort: 80, PublicPort: 80, Type: 'tcp' },
        { IP: '0.0.0.0', PrivatePort: 53, PublicPort: 1053, Type: 'udp' },
        { PrivatePort: 9091, Type: 'tcp' },
        { PrivatePort: 9093, Type: 'tcp' },
      ]),
    ).toBe('9090-9091/tcp, 0.0.0.0:80-81->80-81/tcp, [::]:80->80/tcp, 9093/tcp, 0.0.0.0:1053->53/udp');
    // a broken run inside one key is emitted before the surviving groups
    expect(
      displayablePorts([
        { PrivatePort: 1, Type: 'tcp' },
        { PrivatePort: 3, Type: 'tcp' },
        { PrivatePort: 2, Type: 'udp' },
      ]),
    ).toBe('1/tcp, 3/tcp, 2/udp');
  });

  it('Names keeps the first non-link name when truncating, all names otherwise', () => {
    expect(containerNames(['/a', '/b/alias'])).toBe('a');
    expect(containerNames(['/b/alias', '/a'])).toBe('a');
    expect(containerNames(['/a', '/b/alias'], false)).toBe('a,b/alias');
  });

  it('Image: short ID, familiar name, digest stripped, unparsable kept', () => {
    const id = 'sha256:' + 'ab'.repeat(32);
    expect(containerImage(id, id)).toBe('abababababab');
    expect(containerImage('docker.io/library/nginx:1.25', id)).toBe('nginx:1.25');
    expect(containerImage('nginx@sha256:' + 'c'.repeat(64), id)).toBe('nginx');
    expect(containerImage('nginx:1@sha256:' + 'c'.repeat(64), id)).toBe('nginx:1');
    expect(containerImage('ghcr.io/Owner/App:1', id)).toBe('ghcr.io/Owner/App:1');
    expect(containerImage('', id)).toBe('<no image>');
    expect(containerImage('docker.io/library/nginx:1.25', id, false)).toBe('docker.io/library/nginx:1.25');
  });

  it('reference parsing/familiarizing follows distribution/reference', () => {
    expect(parseNormalizedNamed('busybox')).toEqual({ domain: 'docker.io', path: 'library/busybox' });
    expect(familiarString(parseNormalizedNamed('index.docker.io/library/busybox:1')!)).toBe('busybox:1');
    expect(familiarString(parseNormalizedNamed('localhost:5000/a/b:c')!)).toBe('localhost:5000/a/b:c');
    expect(familiarString(parseNormalizedNamed('user/app')!)).toBe('user/app');
    expect(parseNormalizedNamed('upper/Case')).toBeUndefined(); // repository must be lowercase
    expect(familiarString(parseNormalizedNamed('Upper/case')!)).toBe('Upper/case'); // 'Upper' is a registry host
    expect(parseNormalizedNamed('a'.repeat(64))).toBeUndefined();
    expect(parseNormalizedNamed('<none>:<none>')).toBeUndefined();
    expect(parseNormalizedNamed('x@sha256:abc')).toBeUndefined();
  });

  it('Ellipsis counts East Asian wide characters as 2 columns', () => {
    expect(ellipsis('abcdef', 4)).toBe('abc…');
    expect(ellipsis('abc', 3)).toBe('abc');
    expect(ellipsis('日本語日本語', 5)).toBe('日本…');
    expect(ellipsis('日本', 4)).toBe('日本');
    expect(ellipsis('abc', 1)).toBe('a');
    expect(ellipsis('abc', 0)).toBe('');
  });

  it('zoneAbbreviation: table, numeric zones, unknown zones', () => {
    const d = new Date(0);
    expect(zoneAbbreviation('Europe/Berlin', 120, d)).toBe('CEST');
    expect(zoneAbbreviation('Asia/Dubai', 240, d)).toBe('+04');
    expect(zoneAbbreviation('America/St_Johns', -150, d)).toBe('NDT');
    expect(zoneAbbreviation('No/Such_Zone', -330, d)).toBe('-0530');
  });

  it('RunningFor uses opts.now, CreatedAt the given zone', () => {
    const c: EngineContainerSummary = { Id: 'f'.repeat(64), Created: 1795954699, Names: ['/x'], Image: 'busybox' };
    const got = formatContainerSummary(c, { now: new Date(1795954699_000 + 4_200), timeZone: 'America/New_York' });
    expect(got.RunningFor).toBe('4 seconds ago');
    expect(got.CreatedAt).toBe('2026-11-29 07:18:19 -0500 EST');
    expect(got.Command).toBe('""');
    expect(got.Size).toBe('0B');
    expect(got.Networks).toBe('');
    expect(got.Labels).toBe('');
    expect(got.LocalVolumes).toBe('0');
    expect(got.Platform).toBeNull();
    const withPlatform = formatContainerSummary({ ...c, ImageManifestDescriptor: { platform: { architecture: 'arm64', os: 'linux', variant: 'v8' } } });
    expect(cliJsonLine({ Platform: withPlatform.Platform })).toBe('{"Platform":{"architecture":"arm64","os":"linux","variant":"v8"}}\n');
  });
});
