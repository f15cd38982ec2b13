/**
 * Ports of Docker's `github.com/docker/go-units` (v0.5.0, the version vendored by docker CLI 28):
 * `HumanSize`, `HumanSizeWithPrecision`, `BytesSize`, `CustomSize` (size.go) and `HumanDuration`
 * (duration.go). Output is byte-for-byte what the Go functions return, including Go's `%.Ng`
 * quirks (`HumanSizeWithPrecision(999700, 3)` is `"1e+03kB"` in v0.5.0: the docker CLI really
 * prints that; later go-units releases print `"1000kB"`).
 *
 * @module
 */
import { formatGoG } from './go.ts';

/** go-units' decimal unit abbreviations (`decimapAbbrs`). */
export const DECIMAL_ABBRS: readonly string[] = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
/** go-units' binary unit abbreviations (`binaryAbbrs`). */
export const BINARY_ABBRS: readonly string[] = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'];

function getSizeAndUnit(size: number, base: number, map: readonly string[]): [number, string] {
  let i = 0;
  const unitsLimit = map.length - 1;
  while (size >= base && i < unitsLimit) {
    size = size / base;
    i++;
  }
  return [size, map[i]];
}

/**
 * go-units `CustomSize` restricted to the `%.<precision>g%s` formats go-units itself uses:
 * divides by `base` until below it (or out of units) and prints `%.Ng` + unit.
 * @param precision significant digits of the `%g` verb
 * @param size a size in bytes
 * @param base 1000 or 1024
 * @param map the unit abbreviations, smallest first
 */
export function customSize(precision: number, size: number, base: number, map: readonly string[]): string {
  const [s, unit] = getSizeAndUnit(size, base, map);
  return formatGoG(s, precision) + unit;
}

/**
 * go-units `HumanSizeWithPrecision(size, precision)`: decimal units (`B`, `kB`, `MB`, ...),
 * `precision` significant digits, Go `%g` rules (e.g. `(1982387, 3)` → `"1.98MB"`, `(0, 3)` →
 * `"0B"`, `(999700, 3)` → `"1e+03kB"`). The docker CLI uses precision 3 for `docker ps` Size,
 * `docker images` Size and `docker stats` NetIO/BlockIO.
 * @param size bytes
 * @param precision significant digits
 */
export function humanSizeWithPrecision(size: number, precision: number): string {
  return customSize(precision, size, 1000, DECIMAL_ABBRS);
}

/**
 * go-units `HumanSize(size)`: {@link humanSizeWithPrecision} with 4 significant digits
 * (e.g. `1982387` → `"1.982MB"`, `1024` → `"1.024kB"`). Used by `docker images` VirtualSize,
 * SharedSize and UniqueSize.
 * @param size bytes
 */
export function humanSize(size: number): string {
  return humanSizeWithPrecision(size, 4);
}

/**
 * go-units `BytesSize(size)`: binary units (`B`, `KiB`, `MiB`, `GiB`, ...), `%.4g`
 * (e.g. `1949696` → `"1.859MiB"`, `25276510208` → `"23.54GiB"`). Used by `docker stats` MemUsage.
 * @param size bytes
 */
export function bytesSize(size: number): string {
  return customSize(4, size, 1024, BINARY_ABBRS);
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
const MONTH = 30 * DAY;
const YEAR = 365 * DAY;

/** go-units `roundDuration`: `int(float64(d)/float64(unit) + 0.5)` (Go's int() truncates toward zero). */
function roundDuration(d: number, unit: number): number {
  return Math.trunc(d / unit + 0.5);
}

/**
 * go-units `HumanDuration(d)`: `"Less than a second"`, `"1 second"`, `"N seconds"`,
 * `"About a minute"`, `"N minutes"`, `"About an hour"`, `"N hours"` (< 48 h), `"N days"` (< 2 weeks),
 * `"N weeks"` (< 2 months of 30 days), `"N months"` (< 2 years of 365 days), `"N years"`.
 * The docker CLI appends `" ago"` for RunningFor / CreatedSince.
 * @param durationMs the duration in milliseconds (negative durations give "Less than a second")
 */
export function humanDuration(durationMs: number): string {
  const d = durationMs;
  const seconds = Math.trunc(d / SECOND);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(d / MINUTE);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = roundDuration(d, HOUR);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (d < 2 * WEEK) return `${roundDuration(d, DAY)} days`;
  if (d < 2 * MONTH) return `${roundDuration(d, WEEK)} weeks`;
  if (d < 2 * YEAR) return `${roundDuration(d, MONTH)} months`;
  return `${roundDuration(d, YEAR)} years`;
}

/**
 * The docker CLI's relative-time string for a Unix timestamp: `HumanDuration(now - t) + " ago"`
 * (RunningFor of `docker ps`, CreatedSince of `docker images`).
 * @param unixSeconds the past instant, seconds since the epoch
 * @param now the current time (default `new Date()`)
 */
export function timeAgo(unixSeconds: number, now: Date = new Date()): string {
  return humanDuration(now.getTime() - unixSeconds * 1000) + ' ago';
}
