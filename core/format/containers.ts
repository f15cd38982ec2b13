/**
 * `docker ps -a --format json`: one Engine container summary (an element of
 * `GET /containers/json?all=1`) → the object the docker CLI 28 prints for it, field for field.
 * Mirrors `cli/command/formatter/container.go` (`ContainerContext`) and
 * `cli/command/container/list.go` of docker/cli v28.
 *
 * Notes for callers:
 * - `Size`: `docker ps --format json` does NOT request sizes (only `{{.Size}}`/`{{json .}}`
 *   templates or `-s` do), so the CLI prints `"0B"`. Fetch with `size=1` only to mirror
 *   `docker ps -s --format json` (`"0B (virtual 1.98MB)"`).
 * - `Status` is the Engine's own string, passed through (`"Up 3 seconds (Paused)"`,
 *   `"Exited (0) 5 seconds ago"`, `"Created"`, `"Restarting (1) 2 seconds ago"`): it is computed by
 *   the daemon at list time.
 * - `Platform` is `null` unless the Engine (API >= 1.48) returns `ImageManifestDescriptor.platform`.
 * - `Networks` keeps the Engine's key order (the CLI iterates a Go map: random order when a
 *   container is on several networks).
 *
 * @module
 */
import { compareGoStrings, ellipsis, goQuote, joinHostPort, truncateID } from './go.ts';
import { familiarString, parseNormalizedNamed } from './reference.ts';
import { goTimeString, localTimeZone, type GoTimeOptions } from './time.ts';
import { humanSizeWithPrecision, timeAgo } from './units.ts';

/** One entry of an Engine container summary's `Ports`. */
export interface EnginePort {
  IP?: string;
  PrivatePort: number;
  PublicPort?: number;
  Type: string;
}

/** One entry of an Engine container summary's `Mounts`. */
export interface EngineMountPoint {
  Type?: string;
  Name?: string;
  Source?: string;
  Destination?: string;
  Driver?: string;
  [k: string]: unknown;
}

/** An OCI platform (`ImageManifestDescriptor.platform`, Engine API >= 1.48). */
export interface OciPlatform {
  architecture: string;
  os: string;
  'os.version'?: string;
  'os.features'?: string[];
  variant?: string;
}

/** An element of the Engine's `GET /containers/json` (only the fields the CLI reads). */
export interface EngineContainerSummary {
  Id: string;
  Names?: string[] | null;
  Image?: string;
  ImageID?: string;
  Command?: string;
  /** Unix seconds */
  Created: number;
  Ports?: EnginePort[] | null;
  SizeRw?: number;
  SizeRootFs?: number;
  Labels?: Record<string, string> | null;
  State?: string;
  Status?: string;
  NetworkSettings?: { Networks?: Record<string, unknown> | null } | null;
  Mounts?: EngineMountPoint[] | null;
  ImageManifestDescriptor?: { platform?: OciPlatform | null } | null;
  [k: string]: unknown;
}

/** Options of {@link formatContainerSummary}. */
export interface ContainerFormatOptions extends GoTimeOptions {
  /** "now" for RunningFor (default: `new Date()`) */
  now?: Date;
  /** truncate IDs/commands/mount names as the CLI does without `--no-trunc` (default true) */
  trunc?: boolean;
}

/** The object `docker ps --format json` prints for one container (keys in the CLI's order). */
export interface ContainerSummaryJson {
  Command: string;
  CreatedAt: string;
  ID: string;
  Image: string;
  Labels: string;
  LocalVolumes: string;
  Mounts: string;
  Names: string;
  Networks: string;
  Platform: OciPlatform | null;
  Ports: string;
  RunningFor: string;
  Size: string;
  State: string;
  Status: string;
}

/**
 * `ContainerContext.Names()`: names without their `/` prefix; when truncating, only the first
 * name that is not a legacy link name (`/other/alias`), else all joined with `,`.
 */
export function containerNames(names: readonly string[] | null | undefined, trunc = true): string {
  const stripped = (names ?? []).map((n) => (n.startsWith('/') ? n.slice(1) : n));
  if (trunc) {
    for (const n of stripped) if (!n.includes('/')) return n;
    return '';
  }
  return stripped.join(',');
}

/** `ContainerContext.Image()`: `<no image>`, a short ID, or the familiar reference without digest. */
export function containerImage(image: string | undefined, imageId: string | undefined, trunc = true): string {
  if (!image) return '<no image>';
  if (!trunc) return image;
  const t = truncateID(imageId ?? '');
  if (t === truncateID(image)) return t;
  const ref = parseNormalizedNamed(image);
  if (!ref) return image;
  return familiarString({ domain: ref.domain, path: ref.path, tag: ref.tag });
}

/** `ContainerContext.Labels()`: `k=v` pairs sorted bytewise, joined with `,`. */
export function containerLabels(labels: Record<string, string> | null | undefined): string {
  if (!labels) return '';
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .sort(compareGoStrings)
    .join(',');
}

function comparePorts(i: EnginePort, j: EnginePort): number {
  if (i.PrivatePort !== j.PrivatePort) return i.PrivatePort < j.PrivatePort ? -1 : 1;
  const ii = i.IP ?? '';
  const ji = j.IP ?? '';
  if (ii !== ji) return compareGoStrings(ii, ji);
  const ip = i.PublicPort ?? 0;
  const jp = j.PublicPort ?? 0;
  if (ip !== jp) return ip < jp ? -1 : 1;
  return compareGoStrings(i.Type, j.Type);
}

function formGroup(key: string, start: number, last: number): string {
  const parts = key.split('/');
  let groupType = parts[0];
  let ip = '';
  if (parts.length > 1) {
    ip = parts[0];
    groupType = parts[1];
  }
  let group = String(start);
  if (start !== last) group = `${group}-${last}`;
  if (ip !== '') group = `${joinHostPort(ip, group)}->${group}`;
  return `${group}/${groupType}`;
}

/**
 * `formatter.DisplayablePorts`: the Ports column, e.g.
 * `"81-83/tcp, 0.0.0.0:32770->80/tcp, [::]:32769->80/tcp"`. Ports are sorted (private port, IP,
 * public port, type); unpublished ports and same-number mappings on one IP collapse into ranges;
 * mappings to a different host port are listed after the groups.
 */
export function displayablePorts(ports: readonly EnginePort[] | null | undefined): string {
  const sorted = [...(ports ?? [])].sort(comparePorts);
  const groupMap = new Map<string, { first: number; last: number }>();
  const groupMapKeys: string[] = [];
  const result: string[] = [];
  const hostMappings: string[] = [];
  for (const port of sorted) {
    const current = port.PrivatePort;
    let portKey = port.Type;
    if (port.IP) {
      const pub = port.PublicPort ?? 0;
      if (pub !== current) {
        hostMappings.push(`${joinHostPort(port.IP, String(pub))}->${port.PrivatePort}/${port.Type}`);
        continue;
      }
      portKey = `${port.IP}/${port.Type}`;
    }
    const group = groupMap.get(portKey);
    if (!group) {
      groupMap.set(portKey, { first: current, last: current });
      groupMapKeys.push(portKey);
      continue;
    }
    if (current === ((group.last + 1) & 0xffff)) {
      group.last = current;
      continue;
    }
    result.push(formGroup(portKey, group.first, group.last));
    groupMap.set(portKey, { first: current, last: current });
  }
  for (const key of groupMapKeys) {
    const g = groupMap.get(key)!;
    result.push(formGroup(key, g.first, g.last));
  }
  result.push(...hostMappings);
  return result.join(', ');
}

/** `ContainerContext.Mounts()`: volume names (or bind sources), ellipsized to 15 when truncating. */
export function containerMounts(mounts: readonly EngineMountPoint[] | null | undefined, trunc = true): string {
  return (mounts ?? [])
    .map((m) => {
      const name = m.Name ? m.Name : (m.Source ?? '');
      return trunc ? ellipsis(name, 15) : name;
    })
    .join(',');
}

/** `ContainerContext.Size()`: `"<rw>"` or `"<rw> (virtual <rootfs>)"`, 3 significant digits. */
export function containerSize(sizeRw: number | undefined, sizeRootFs: number | undefined): string {
  const srw = humanSizeWithPrecision(sizeRw ?? 0, 3);
  if ((sizeRootFs ?? 0) > 0) return `${srw} (virtual ${humanSizeWithPrecision(sizeRootFs ?? 0, 3)})`;
  return srw;
}

function platformOf(c: EngineContainerSummary): OciPlatform | null {
  const p = c.ImageManifestDescriptor?.platform;
  if (!p) return null;
  const out: OciPlatform = { architecture: p.architecture ?? '', os: p.os ?? '' };
  if (p['os.version']) out['os.version'] = p['os.version'];
  if (p['os.features'] && p['os.features'].length > 0) out['os.features'] = [...p['os.features']];
  if (p.variant) out.variant = p.variant;
  return out;
}

/** At most this many entries in each memo below; past it a memo starts over. */
const MEMO_MAX = 4096;

/** The fields of a row that depend only on what a container keeps for life. */
interface LifelongFields {
  created: number;
  zone: string;
  rawCommand: string;
  command: string;
  createdAt: string;
  labels: string;
}
const lifelong = new Map<string, LifelongFields>();

/**
 * `Command` (truncated), `CreatedAt` (local zone) and `Labels` of a container, kept by container
 * ID: the Engine cannot change a container's labels, command or creation time after create, and
 * `CreatedAt` depends only on the local zone besides, so a list of 500 apps formats them once
 * rather than on every read (~4 ms of ~6 ms for 500 rows). An entry is used only while the ID,
 * `Created`, `Command` and the local zone match.
 */
function lifelongFields(c: EngineContainerSummary): LifelongFields {
  const rawCommand = c.Command ?? '';
  const zone = localTimeZone();
  const hit = lifelong.get(c.Id);
  if (hit && hit.created === c.Created && hit.rawCommand === rawCommand && hit.zone === zone) return hit;
  if (lifelong.size >= MEMO_MAX) lifelong.clear();
  const made = { created: c.Created, zone, rawCommand, command: goQuote(ellipsis(rawCommand, 20)), createdAt: goTimeString(c.Created), labels: containerLabels(c.Labels) };
  lifelong.set(c.Id, made);
  return made;
}

const images = new Map<string, string>();

/** {@link containerImage} (truncating), kept per `Image` and `ImageID` pair: it parses the reference. */
function memoImage(image: string | undefined, imageId: string | undefined): string {
  const key = `${image ?? ''}\n${imageId ?? ''}`;
  let v = images.get(key);
  if (v === undefined) {
    if (images.size >= MEMO_MAX) images.clear();
    v = containerImage(image, imageId, true);
    images.set(key, v);
  }
  return v;
}

/**
 * One container as `docker ps -a --format json` prints it (docker CLI 28, `ContainerContext`
 * marshalled with sorted keys). All values are strings except `Platform` (`null` or an object).
 * Serialize with `cliJsonLine` from `./go.ts` for the CLI's exact bytes.
 *
 * - Command: `strconv.Quote` of the command, ellipsized to 20 display columns with `…` when truncating
 * - CreatedAt: Go `time.Time.String()` in the local zone, `"2006-01-02 15:04:05 -0700 MST"`
 * - RunningFor: go-units HumanDuration(now − Created) + `" ago"`
 * - Size: see the module notes (`size=1` only for `docker ps -s`)
 *
 * @param c an element of the Engine's `GET /containers/json?all=1` (API 1.41+)
 * @param opts `now`, `trunc` (default true), `timeZone`/`zoneAbbreviation` for CreatedAt
 */
export function formatContainerSummary(c: EngineContainerSummary, opts: ContainerFormatOptions = {}): ContainerSummaryJson {
  const trunc = opts.trunc ?? true;
  const command = c.Command ?? '';
  const life = trunc && !opts.timeZone && !opts.zoneAbbreviation ? lifelongFields(c) : undefined;
  return {
    Command: life?.command ?? goQuote(trunc ? ellipsis(command, 20) : command),
    CreatedAt: life?.createdAt ?? goTimeString(c.Created, opts),
    ID: trunc ? truncateID(c.Id) : c.Id,
    Image: trunc ? memoImage(c.Image, c.ImageID) : containerImage(c.Image, c.ImageID, trunc),
    Labels: life?.labels ?? containerLabels(c.Labels),
    LocalVolumes: String((c.Mounts ?? []).filter((m) => m.Driver === 'local').length),
    Mounts: containerMounts(c.Mounts, trunc),
    Names: containerNames(c.Names, trunc),
    Networks: Object.keys(c.NetworkSettings?.Networks ?? {}).join(','),
    Platform: platformOf(c),
    Ports: displayablePorts(c.Ports),
    RunningFor: timeAgo(c.Created, opts.now),
    Size: containerSize(c.SizeRw, c.SizeRootFs),
    State: c.State ?? '',
    Status: c.Status ?? '',
  };
}
