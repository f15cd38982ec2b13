/**
 * formatImageSummary against a recorded Engine image list and the docker CLI 28's
 * `docker images [--digests|--no-trunc] --format json` output for it (3 time zones), plus
 * constructed dangling/digest cases.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cliJsonLine } from '../../core/format/go.ts';
import { formatImageSummary, type EngineImageSummary, type ImageJson } from '../../core/format/images.ts';
import { timeAgo } from '../../core/format/units.ts';

const fx = JSON.parse(readFileSync(new URL('../fixtures/engine/format-images.json', import.meta.url), 'utf8')) as {
  recordedAtMs: number;
  images: EngineImageSummary[];
  cli: Record<string, { plain: string; digests: string; noTrunc: string }>;
};

const rowKey = (r: ImageJson): string => `${r.ID}|${r.Repository}|${r.Tag}|${r.Digest}`;

describe('formatImageSummary vs recorded docker images output', () => {
  for (const tz of Object.keys(fx.cli)) {
    for (const variant of ['plain', 'digests', 'noTrunc'] as const) {
      it(`${variant} under TZ=${tz}`, () => {
        const want = fx.cli[tz][variant].split('\n').filter(Boolean);
        const opts = { timeZone: tz, now: new Date(fx.recordedAtMs), trunc: variant !== 'noTrunc', digests: variant === 'digests' };
        const got = fx.images.flatMap((img) => formatImageSummary(img, opts));
        expect(got.length).toBe(want.length);
        expect(got.length).toBeGreaterThanOrEqual(6);
        const byKey = new Map(got.map((r) => [rowKey(r), r]));
        for (const line of want) {
          const w = JSON.parse(line) as ImageJson;
          const g = byKey.get(rowKey(w));
          expect(g, line).toBeDefined();
          const created = fx.images.find((i) => i.Id.includes(w.ID.replace('sha256:', '')))!.Created;
          const window = new Set<string>();
          for (let t = fx.recordedAtMs - 2000; t <= fx.recordedAtMs + 2000; t += 100) window.add(timeAgo(created, new Date(t)));
          expect(window).toContain(w.CreatedSince);
          expect(cliJsonLine({ ...g!, CreatedSince: w.CreatedSince })).toBe(line + '\n');
        }
      });
    }
  }

  it('recorded rows show the CLI conventions', () => {
    const rows = fx.cli.UTC.plain
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as ImageJson);
    expect(rows.some((r) => r.Repository === '<none>' && r.Tag === '<none>')).toBe(true);
    expect(rows.some((r) => r.Repository === 'localhost:5000/fmtprobe/x' && r.Tag === 'y')).toBe(true);
    for (const r of rows) {
      expect(r).toMatchObject({ Containers: 'N/A', SharedSize: 'N/A', UniqueSize: 'N/A', Digest: '<none>', Size: '1.98MB', VirtualSize: '1.982MB' });
      expect(r.ID).toMatch(/^[0-9a-f]{12}$/);
    }
    const noTrunc = JSON.parse(fx.cli.UTC.noTrunc.split('\n')[0]) as ImageJson;
    expect(noTrunc.ID).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});

describe('formatImageSummary constructed cases', () => {
  const d1 = 'sha256:' + '1'.repeat(64);
  const d2 = 'sha256:' + '2'.repeat(64);
  const base: EngineImageSummary = {
    Id: 'sha256:' + 'e'.repeat(64),
    Created: 1700000000,
    Size: 77_800_000,
    SharedSize: 5_000_000,
    Containers: 3,
    RepoTags: ['nginx:1.25', 'nginx:latest', 'docker.io/library/nginx:stable', 'ghcr.io/acme/web:v2'],
    RepoDigests: [`nginx@${d1}`, `ghcr.io/acme/web@${d2}`, `registry.local/only@${d2}`],
  };
  const opts = { timeZone: 'UTC', now: new Date(1700000000_000 + 3 * 86400_000) };

  it('one row per tag, digest-only references with an empty digest', () => {
    const rows = formatImageSummary(base, opts);
    expect(rows.map((r) => `${r.Repository}:${r.Tag}@${r.Digest}`)).toEqual([
      'nginx:1.25@<none>',
      'nginx:latest@<none>',
      'nginx:stable@<none>',
      'ghcr.io/acme/web:v2@<none>',
      'registry.local/only:<none>@',
    ]);
    expect(rows[0]).toEqual({
      Containers: '3',
      CreatedAt: '2023-11-14 22:13:20 +0000 UTC',
      CreatedSince: '3 days ago',
      Digest: '<none>',
      ID: 'eeeeeeeeeeee',
      Repository: 'nginx',
      SharedSize: '5MB',
      Size: '77.8MB',
      Tag: '1.25',
      UniqueSize: '72.8MB',
      VirtualSize: '77.8MB',
    });
  });

  it('--digests: a row per digest of the tagged repository and per digest-only reference', () => {
    const rows = formatImageSummary(base, { ...opts, digests: true });
    expect(rows.map((r) => `${r.Repository}:${r.Tag}@${r.Digest}`)).toEqual([
      `nginx:1.25@${d1}`,
      `nginx:latest@${d1}`,
      `nginx:stable@${d1}`,
      `ghcr.io/acme/web:v2@${d2}`,
      `registry.local/only:<none>@${d2}`,
    ]);
  });

  it('dangling images: no references, or the legacy <none> placeholders', () => {
    for (const refs of [
      { RepoTags: [], RepoDigests: [] },
      { RepoTags: null, RepoDigests: null },
      { RepoTags: ['<none>:<none>'], RepoDigests: ['<none>@<none>'] },
    ]) {
      const rows = formatImageSummary({ ...base, ...refs, SharedSize: -1, Containers: -1 }, opts);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ Repository: '<none>', Tag: '<none>', Digest: '<none>', Containers: 'N/A', SharedSize: 'N/A', UniqueSize: 'N/A' });
    }
    // unparsable tags are skipped, not shown
    expect(formatImageSummary({ ...base, RepoTags: ['<none>:<none>'], RepoDigests: [] }, opts)).toEqual([]);
  });
});
