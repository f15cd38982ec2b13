/**
 * Go's `time.Time.String()` for `time.Unix(sec, 0)` in the local zone — the
 * `2006-01-02 15:04:05 -0700 MST` strings the docker CLI prints for `CreatedAt` — and the zone
 * abbreviation Go would print (`UTC`, `CET`/`CEST`, `EST`/`EDT`, `+03`, ...).
 *
 * Pure and web-standard: the wall clock comes from `Date` (runtime local zone) or from
 * `Intl.DateTimeFormat` (an explicit IANA zone); the abbreviation from a table generated from
 * tzdata (see `./tzabbr.ts`), then `Intl.DateTimeFormat(..., {timeZoneName: 'short'})`, then the
 * numeric form Go uses for zones without a letter abbreviation.
 *
 * @module
 */
import { LETTER_ABBREVIATIONS, NUMERIC_ZONES } from './tzabbr.ts';

/** Options shared by the formatters that print absolute times. */
export interface GoTimeOptions {
  /**
   * IANA zone to format in (e.g. `"Europe/Berlin"`). Default: the runtime's local zone, which is
   * what the docker CLI uses (`TZ`, else `/etc/localtime`).
   */
  timeZone?: string;
  /**
   * Overrides the zone abbreviation (e.g. a resolver that reads the system's zoneinfo). Return
   * `undefined` to fall back to the built-in resolution.
   * @param instant the instant being formatted
   * @param offsetMinutes the zone's UTC offset at that instant, minutes east of UTC
   * @param timeZone the IANA zone name in effect
   */
  zoneAbbreviation?: (instant: Date, offsetMinutes: number, timeZone: string) => string | undefined;
}

let letterTable: Map<string, Map<number, string>> | undefined;
let numericZones: Set<string> | undefined;

function tables(): { letters: Map<string, Map<number, string>>; numeric: Set<string> } {
  if (!letterTable || !numericZones) {
    letterTable = new Map();
    for (const [sig, zones] of LETTER_ABBREVIATIONS) {
      const m = new Map<number, string>();
      for (const part of sig.split(',')) {
        const eq = part.indexOf('=');
        m.set(Number(part.slice(0, eq)), part.slice(eq + 1));
      }
      for (const z of zones.split(' ')) if (z) letterTable.set(z, m);
    }
    numericZones = new Set(NUMERIC_ZONES.split(' ').filter(Boolean));
  }
  return { letters: letterTable, numeric: numericZones };
}

/** `+hhmm`/`-hhmm` as Go's `-0700` layout element prints a UTC offset given in minutes. */
function offsetString(offsetMinutes: number): string {
  const sign = offsetMinutes < 0 ? '-' : '+';
  const a = Math.abs(offsetMinutes);
  return sign + String(Math.floor(a / 60)).padStart(2, '0') + String(a % 60).padStart(2, '0');
}

/** tzdata's numeric abbreviation: `+03`, `-0330`, `+0545` (minutes only when non-zero). */
function numericAbbreviation(offsetMinutes: number): string {
  const sign = offsetMinutes < 0 ? '-' : '+';
  const a = Math.abs(offsetMinutes);
  const mm = a % 60;
  return sign + String(Math.floor(a / 60)).padStart(2, '0') + (mm ? String(mm).padStart(2, '0') : '');
}

/** English locales whose CLDR short zone names match tzdata's abbreviations for a zone's region. */
function localesFor(zone: string): string[] {
  if (zone === 'Europe/Dublin' || zone === 'Eire') return ['en-IE'];
  if (zone === 'Asia/Kolkata' || zone === 'Asia/Calcutta') return ['en-IN'];
  if (zone === 'Pacific/Auckland' || zone.startsWith('NZ')) return ['en-NZ'];
  if (/^(America|US|Canada)\//.test(zone)) return ['en-US', 'en-CA'];
  if (zone.startsWith('Europe/')) return ['en-GB'];
  if (zone.startsWith('Australia/')) return ['en-AU'];
  if (zone.startsWith('Africa/')) return ['en-ZA', 'en-GB'];
  return [];
}

function intlAbbreviation(zone: string, instant: Date, offsetMinutes: number): string | undefined {
  for (const locale of localesFor(zone)) {
    try {
      const part = new Intl.DateTimeFormat(locale, { timeZone: zone, timeZoneName: 'short' }).formatToParts(instant).find((p) => p.type === 'timeZoneName');
      const name = part?.value;
      if (!name || !/^[A-Za-z]{2,6}$/.test(name)) continue;
      if ((name === 'GMT' || name === 'UTC') && offsetMinutes !== 0) continue;
      return name;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/**
 * The zone abbreviation Go's `time` package prints for `zone` at an instant with the given UTC
 * offset (the `MST` of Go's reference layout): `UTC` for UTC, `CET`/`CEST` for Europe/Berlin,
 * `EST`/`EDT` for America/New_York, `+03` for Europe/Istanbul, `-03` for America/Sao_Paulo.
 * Resolution: built-in tzdata table (current rules) → Intl short name in a region-appropriate
 * English locale → Go's numeric form.
 * @param zone IANA zone name (as `Intl` reports it)
 * @param offsetMinutes UTC offset at the instant, minutes east of UTC
 * @param instant the instant (used by the Intl fallback)
 */
export function zoneAbbreviation(zone: string, offsetMinutes: number, instant: Date): string {
  const { letters, numeric } = tables();
  const known = letters.get(zone);
  const hit = known?.get(offsetMinutes);
  if (hit !== undefined) return hit;
  if (known || numeric.has(zone)) return numericAbbreviation(offsetMinutes);
  return intlAbbreviation(zone, instant, offsetMinutes) ?? numericAbbreviation(offsetMinutes);
}

/** The runtime's local IANA zone name (`Intl.DateTimeFormat().resolvedOptions().timeZone`), or `"UTC"`. */
export function localTimeZone(): string {
  // Building an Intl.DateTimeFormat costs ~0.2 ms, and a listing formats every row: under Node
  // the answer is kept per value of TZ (which tests change at run time); under Deno, asked each time.
  const env = (globalThis as { Deno?: unknown; process?: { env?: Record<string, string | undefined> } }).Deno ? undefined : globalThis.process?.env;
  const key = env ? (env.TZ ?? '') : undefined;
  if (key !== undefined && zoneCache?.key === key) return zoneCache.zone;
  let zone: string;
  try {
    zone = new Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    zone = 'UTC';
  }
  if (key !== undefined) zoneCache = { key, zone };
  return zone;
}
let zoneCache: { key: string; zone: string } | undefined;

interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  offsetMinutes: number;
}

function wallClockIn(instant: Date, timeZone: string): WallClock {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(instant);
  const get = (t: string): number => Number(parts.find((p) => p.type === t)?.value ?? '0');
  const w = {
    year: get('year'),
    month: get('month'),
    day: get('day'),
    hour: get('hour') % 24,
    minute: get('minute'),
    second: get('second'),
  };
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  const whole = Math.floor(instant.getTime() / 1000) * 1000;
  return { ...w, offsetMinutes: Math.round((asUtc - whole) / 60000) };
}

function wallClockLocal(instant: Date): WallClock {
  return {
    year: instant.getFullYear(),
    month: instant.getMonth() + 1,
    day: instant.getDate(),
    hour: instant.getHours(),
    minute: instant.getMinutes(),
    second: instant.getSeconds(),
    offsetMinutes: -instant.getTimezoneOffset(),
  };
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

/**
 * Go's `time.Unix(unixSeconds, 0).String()` in the local zone, i.e.
 * `"2006-01-02 15:04:05 -0700 MST"` (e.g. `"2026-11-29 13:22:11 +0100 CET"`), as the docker CLI
 * prints `CreatedAt` for containers and images.
 * @param unixSeconds seconds since the Unix epoch (the Engine's `Created`)
 * @param opts `timeZone` to format in another zone than the runtime's; `zoneAbbreviation` hook
 */
export function goTimeString(unixSeconds: number, opts: GoTimeOptions = {}): string {
  const instant = new Date(unixSeconds * 1000);
  const zone = opts.timeZone ?? localTimeZone();
  const w = opts.timeZone ? wallClockIn(instant, opts.timeZone) : wallClockLocal(instant);
  const abbr = opts.zoneAbbreviation?.(instant, w.offsetMinutes, zone) ?? zoneAbbreviation(zone, w.offsetMinutes, instant);
  const year = w.year < 0 ? '-' + String(-w.year).padStart(4, '0') : String(w.year).padStart(4, '0');
  return `${year}-${pad2(w.month)}-${pad2(w.day)} ${pad2(w.hour)}:${pad2(w.minute)}:${pad2(w.second)} ` + `${offsetString(w.offsetMinutes)} ${abbr}`;
}
