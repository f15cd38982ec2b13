/**
 * `docker images --format json`: one Engine image summary (an element of `GET /images/json`)
 * → the rows the docker CLI 28 prints for it (one per repository:tag; `<none>` rows for dangling
 * images). Mirrors `cli/command/formatter/image.go` (`imageFormat`, `imageContext`).
 *
 * Notes for callers:
 * - `Containers`/`SharedSize`/`UniqueSize` are `"N/A"` because the CLI's list call does not ask
 *   for them (the Engine returns -1); `VirtualSize` is `HumanSize` (4 digits) of `Size`, `Size`
 *   is 3 digits (`"1.98MB"` vs `"1.982MB"`).
 * - `Digest` is `"<none>"` for tagged rows (digests are only shown with `--digests` or a format
 *   mentioning `{{.Digest}}`), `""` for digest-only rows.
 * - Row order for an image with several repositories: the CLI iterates a Go map (random); here
 *   the order of first appearance in `RepoTags` is used.
 *
 * @module
 */
import { truncateID } from './go.ts';
import { familiarName, parseNormalizedNamed } from './reference.ts';
import { goTimeString, type GoTimeOptions } from './time.ts';
import { humanSize, humanSizeWithPrecision, timeAgo } from './units.ts';

/** An element of the Engine's `GET /images/json` (only the fields the CLI reads). */
export interface EngineImageSummary {
  Id: string;
  ParentId?: string;
  RepoTags?: string[] | null;
  RepoDigests?: string[] | null;
  /** Unix seconds */
  Created: number;
  Size: number;
  SharedSize?: number;
  VirtualSize?: number;
  Containers?: number;
  Labels?: Record<string, string> | null;
  [k: string]: unknown;
}

/** Options of {@link formatImageSummary}. */
export interface ImageFormatOptions extends GoTimeOptions {
  /** "now" for CreatedSince (default `new Date()`) */
  now?: Date;
  /** truncate IDs as without `--no-trunc` (default true) */
  trunc?: boolean;
  /** `--digests`: one row per digest, digest-only references listed with their digests */
  digests?: boolean;
}

/** The object `docker images --format json` prints for one row (CLI key order). */
export interface ImageJson {
  Containers: string;
  CreatedAt: string;
  CreatedSince: string;
  Digest: string;
  ID: string;
  Repository: string;
  SharedSize: string;
  Size: string;
  Tag: string;
  UniqueSize: string;
  VirtualSize: string;
}

function isDangling(img: EngineImageSummary): boolean {
  const tags = img.RepoTags ?? [];
  const digests = img.RepoDigests ?? [];
  if (tags.length === 0 && digests.length === 0) return true;
  return tags.length === 1 && tags[0] === '<none>:<none>' && digests.length === 1 && digests[0] === '<none>@<none>';
}

/**
 * The `docker images --format json` rows for one image: one per repository:tag (per digest too
 * with `digests`), `<none>`/`<none>` for dangling images, `<none>` tag for digest-only references.
 * Values as `imageContext` prints them: ID `truncateID` (12 chars, no `sha256:`), CreatedAt Go
 * `time.String()` in the local zone, CreatedSince HumanDuration + `" ago"`, Size 3 significant
 * digits, VirtualSize/SharedSize/UniqueSize 4, `"N/A"` for -1 counts.
 * @param img an element of the Engine's `GET /images/json`
 * @param opts `now`, `trunc` (default true), `digests`, `timeZone`/`zoneAbbreviation`
 */
export function formatImageSummary(img: EngineImageSummary, opts: ImageFormatOptions = {}): ImageJson[] {
  const rows: Array<[string, string, string]> = [];
  if (isDangling(img)) {
    rows.push(['<none>', '<none>', '<none>']);
  } else {
    const repoTags = new Map<string, string[]>();
    const repoDigests = new Map<string, string[]>();
    for (const s of img.RepoTags ?? []) {
      const ref = parseNormalizedNamed(s);
      if (!ref || ref.tag === undefined) continue;
      const name = familiarName(ref);
      repoTags.set(name, [...(repoTags.get(name) ?? []), ref.tag]);
    }
    for (const s of img.RepoDigests ?? []) {
      const ref = parseNormalizedNamed(s);
      if (!ref || ref.digest === undefined) continue;
      const name = familiarName(ref);
      repoDigests.set(name, [...(repoDigests.get(name) ?? []), ref.digest]);
    }
    for (const [repo, tags] of repoTags) {
      let digests = repoDigests.get(repo) ?? [];
      repoDigests.delete(repo);
      if (!opts.digests) digests = [];
      for (const tag of tags) {
        if (digests.length === 0) {
          rows.push([repo, tag, '<none>']);
          continue;
        }
        for (const d of digests) rows.push([repo, tag, d]);
      }
    }
    for (const [repo, digests] of repoDigests) {
      if (opts.digests) for (const d of digests) rows.push([repo, '<none>', d]);
      else rows.push([repo, '<none>', '']);
    }
  }
  const trunc = opts.trunc ?? true;
  const shared = img.SharedSize ?? -1;
  const containers = img.Containers ?? -1;
  const common = {
    Containers: containers === -1 ? 'N/A' : String(containers),
    CreatedAt: goTimeString(img.Created, opts),
    CreatedSince: timeAgo(img.Created, opts.now),
    ID: trunc ? truncateID(img.Id) : img.Id,
    SharedSize: shared === -1 ? 'N/A' : humanSize(shared),
    Size: humanSizeWithPrecision(img.Size, 3),
    UniqueSize: img.Size === -1 || shared === -1 ? 'N/A' : humanSize(img.Size - shared),
    VirtualSize: humanSize(img.Size),
  };
  return rows.map(([Repository, Tag, Digest]) => ({
    Containers: common.Containers,
    CreatedAt: common.CreatedAt,
    CreatedSince: common.CreatedSince,
    Digest,
    ID: common.ID,
    Repository,
    SharedSize: common.SharedSize,
    Size: common.Size,
    Tag,
    UniqueSize: common.UniqueSize,
    VirtualSize: common.VirtualSize,
  }));
}
