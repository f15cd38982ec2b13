/**
 * Small, exact ports of the Go standard-library behaviours the docker CLI's output depends on:
 * `fmt`'s `%.Ng`, `strconv.FormatFloat(x, 'f', N, 64)`, `strconv.Quote`, `encoding/json`'s
 * escaping of strings, `net.JoinHostPort`, and a few docker CLI display helpers
 * (`stringid.TruncateID`, `formatter.Ellipsis`, `formatter.PrettyPrint`).
 *
 * Pure functions, web-standard JavaScript only (BigInt, no Node built-ins).
 *
 * @module
 */

/** The exact decimal expansion of a finite, non-negative double: value = 0.d1d2d3... × 10^dp. */
interface Decimal {
  /** significant digits, no leading or trailing zeros ("" for zero) */
  d: string;
  /** position of the decimal point relative to the start of `d` */
  dp: number;
}

/** Exact decimal digits of |x| (x finite). Mirrors Go's strconv `decimal.Assign` + `Shift`. */
function exactDecimal(x: number): Decimal {
  x = Math.abs(x);
  if (x === 0) return { d: '', dp: 0 };
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const biasedExp = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let exp: number;
  if (biasedExp === 0) {
    exp = -1074; // subnormal
  } else {
    mant |= 1n << 52n;
    exp = biasedExp - 1075;
  }
  let digits: string;
  let dp: number;
  if (exp >= 0) {
    digits = (mant << BigInt(exp)).toString();
    dp = digits.length;
  } else {
    // mant / 2^k == mant * 5^k / 10^k : exact in decimal
    const k = -exp;
    digits = (mant * 5n ** BigInt(k)).toString();
    dp = digits.length - k;
  }
  const trimmed = digits.replace(/0+$/, '');
  return { d: trimmed, dp };
}

/**
 * Rounds a decimal to `nd` significant digits, half to even on the exact value (Go's
 * `decimal.Round`: no-op when `nd < 0` or `nd >= len(d)`). Trailing zeros are trimmed.
 */
function roundDecimal(a: Decimal, nd: number): Decimal {
  if (nd < 0 || nd >= a.d.length) return a;
  const c = a.d.charCodeAt(nd) - 48;
  let up: boolean;
  if (c === 5 && nd + 1 === a.d.length) {
    up = nd > 0 && (a.d.charCodeAt(nd - 1) - 48) % 2 === 1;
  } else {
    up = c >= 5;
  }
  if (!up) {
    return { d: a.d.slice(0, nd).replace(/0+$/, ''), dp: a.d.length === 0 ? 0 : a.dp };
  }
  // round up
  for (let i = nd - 1; i >= 0; i--) {
    const ch = a.d.charCodeAt(i);
    if (ch < 57) {
      return { d: a.d.slice(0, i) + String.fromCharCode(ch + 1), dp: a.dp };
    }
  }
  // all nines (or nd == 0): becomes "1" with the point moved one place
  return { d: '1', dp: a.dp + 1 };
}

function fmtF(neg: boolean, d: Decimal, prec: number): string {
  let s = neg ? '-' : '';
  if (d.dp > 0) {
    const m = Math.min(d.d.length, d.dp);
    s += d.d.slice(0, m) + '0'.repeat(d.dp - m);
  } else {
    s += '0';
  }
  if (prec > 0) {
    s += '.';
    for (let i = 1; i <= prec; i++) {
      const j = d.dp + i - 1;
      s += j >= 0 && j < d.d.length ? d.d[j] : '0';
    }
  }
  return s;
}

function fmtE(neg: boolean, d: Decimal, prec: number): string {
  let s = neg ? '-' : '';
  s += d.d.length === 0 ? '0' : d.d[0];
  if (prec > 0) {
    s += '.';
    let i = 1;
    const m = Math.min(d.d.length, prec + 1);
    if (i < m) {
      s += d.d.slice(i, m);
      i = m;
    }
    s += '0'.repeat(prec + 1 - i);
  }
  s += 'e';
  let exp = d.dp - 1;
  if (d.d.length === 0) exp = 0;
  if (exp < 0) {
    s += '-';
    exp = -exp;
  } else {
    s += '+';
  }
  s += exp < 10 ? '0' + exp : String(exp);
  return s;
}

function special(x: number): string | undefined {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  return undefined;
}

function isNeg(x: number): boolean {
  return x < 0 || Object.is(x, -0);
}

/**
 * Go's `fmt.Sprintf("%.<prec>g", x)` for a float64 (identical to
 * `strconv.FormatFloat(x, 'g', prec, 64)`): `prec` significant digits, rounded half to even on
 * the exact binary value, `%e` form (`1e+03`, `1.235e+05`) when the decimal exponent is < -4 or
 * >= the precision, trailing zeros removed. Examples: `formatGoG(999.95, 4)` → `"1000"`,
 * `formatGoG(999.5, 3)` → `"1e+03"`, `formatGoG(1e15, 4)` → `"1e+15"`, `formatGoG(0.5, 4)` → `"0.5"`.
 * @param x the value
 * @param prec significant digits (Go treats 0 as 1)
 */
export function formatGoG(x: number, prec: number): string {
  const sp = special(x);
  if (sp !== undefined) return sp;
  if (prec === 0) prec = 1;
  const neg = isNeg(x);
  const digs = roundDecimal(exactDecimal(x), prec);
  let eprec = prec;
  if (eprec > digs.d.length && digs.d.length >= digs.dp) eprec = digs.d.length;
  const exp = digs.dp - 1;
  if (exp < -4 || exp >= eprec) {
    const p = Math.min(prec, digs.d.length);
    return fmtE(neg, digs, p - 1);
  }
  const p = prec > digs.dp ? digs.d.length : prec;
  return fmtF(neg, digs, Math.max(p - digs.dp, 0));
}

/**
 * Go's `strconv.FormatFloat(x, 'f', prec, 64)` (also `fmt`'s `%.<prec>f`): fixed notation with
 * exactly `prec` decimals, rounded half to even on the exact binary value (so `0.125` → `"0.12"`,
 * where JavaScript's `toFixed` gives `"0.13"`).
 * @param x the value
 * @param prec number of decimals (>= 0)
 */
export function formatGoF(x: number, prec: number): string {
  const sp = special(x);
  if (sp !== undefined) return sp;
  const neg = isNeg(x);
  const d0 = exactDecimal(x);
  const digs = roundDecimal(d0, d0.dp + prec);
  return fmtF(neg, digs, Math.max(prec, 0));
}

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

/**
 * Go's `strconv.Quote(s)`: a double-quoted Go string literal. Printable runes (Unicode categories
 * L, M, N, P, S and the ASCII space, per `unicode.IsPrint`) are kept as is; `\a \b \f \n \r \t \v`,
 * `\\` and `\"` are escaped; other runes become `\xNN` (< U+0080 control), `\uNNNN` or `\UNNNNNNNN`.
 * A lone UTF-16 surrogate is written as U+FFFD, the rune Go's JSON decoder would have produced.
 */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') {
      out += '\\' + ch;
      continue;
    }
    if (cp < 0x80 && cp >= 0x20 && cp !== 0x7f) {
      out += ch;
      continue;
    }
    if (cp >= 0xd800 && cp <= 0xdfff) {
      out += '\ufffd'; // a lone surrogate: Go's JSON decoder would have produced U+FFFD (printable)
      continue;
    }
    if (cp >= 0x80 && PRINTABLE.test(ch)) {
      out += ch;
      continue;
    }
    // biome-ignore format: one escape per line reads as the table it is
    switch (cp) {
      case 0x07: out += '\\a'; continue;
      case 0x08: out += '\\b'; continue;
      case 0x0c: out += '\\f'; continue;
      case 0x0a: out += '\\n'; continue;
      case 0x0d: out += '\\r'; continue;
      case 0x09: out += '\\t'; continue;
      case 0x0b: out += '\\v'; continue;
    }
    if (cp < 0x20 || cp === 0x7f) {
      out += '\\x' + cp.toString(16).padStart(2, '0');
    } else if (cp < 0x10000) {
      out += '\\u' + cp.toString(16).padStart(4, '0');
    } else {
      out += '\\U' + cp.toString(16).padStart(8, '0');
    }
  }
  return out + '"';
}

/**
 * A string as Go's `encoding/json` (`json.Marshal`, HTML escaping on; Go >= 1.22 as the
 * docker CLI 28 is built with) writes it: `"`, `\\`, `\n`, `\r`, `\t`, `\b`, `\f` escaped, other control characters as `\u00XX`, `<`, `>`, `&` as
 * `\u003c`, `\u003e`, `\u0026`, U+2028/U+2029 as `\u2028`/`\u2029`, invalid UTF-16 as `\ufffd`.
 */
export function goJsonString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    // biome-ignore format: one escape per line reads as the table it is
    switch (ch) {
      case '"': out += '\\"'; continue;
      case '\\': out += '\\\\'; continue;
      case '\n': out += '\\n'; continue;
      case '\r': out += '\\r'; continue;
      case '\t': out += '\\t'; continue;
      case '\b': out += '\\b'; continue; // Go >= 1.22
      case '\f': out += '\\f'; continue; // Go >= 1.22
      case '<': out += '\\u003c'; continue;
      case '>': out += '\\u003e'; continue;
      case '&': out += '\\u0026'; continue;
    }
    if (cp < 0x20) out += '\\u00' + cp.toString(16).padStart(2, '0');
    else if (cp === 0x2028 || cp === 0x2029) out += '\\u' + cp.toString(16);
    else if (cp >= 0xd800 && cp <= 0xdfff) out += '\\ufffd';
    else out += ch;
  }
  return out + '"';
}

/** A JSON value as produced by the docker CLI's formatters. */
export type CliJsonValue = string | number | boolean | null | CliJsonValue[] | { [k: string]: CliJsonValue };

/**
 * Serializes a value exactly as Go's `json.Marshal` does for the docker CLI's `--format json`
 * contexts (`formatter.MarshalJSON` → `map[string]any`): no whitespace, strings escaped per
 * {@link goJsonString}. Object keys are written in the object's own order: the formatters in this
 * folder build their objects with Go's order (sorted map keys; struct field order for nested
 * structs). Append `"\n"` to get the line the CLI prints. Numbers use JavaScript's shortest form
 * (the CLI's list contexts only emit strings, booleans, null and nested string objects).
 */
export function goJsonMarshal(v: CliJsonValue): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return goJsonString(v);
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (Array.isArray(v)) return '[' + v.map(goJsonMarshal).join(',') + ']';
  return (
    '{' +
    Object.keys(v)
      .map((k) => goJsonString(k) + ':' + goJsonMarshal(v[k]))
      .join(',') +
    '}'
  );
}

/**
 * The exact line the docker CLI prints for one object with `--format json`
 * (`{{json .}}` + newline), e.g. `{"Command":"\"true\"",...,"Ports":"0.0.0.0:80-\u003e80/tcp",...}\n`.
 * @param obj an object returned by one of the `format*` functions of this folder
 */
export function cliJsonLine(obj: { [k: string]: CliJsonValue } | object): string {
  return goJsonMarshal(obj as { [k: string]: CliJsonValue }) + '\n';
}

/**
 * Go's string ordering (`sort.Strings`, `<` on strings): bytewise on UTF-8, which equals
 * code-point order. Returns <0, 0, >0.
 */
export function compareGoStrings(a: string, b: string): number {
  if (a === b) return 0;
  // UTF-16 code units order as code points except a surrogate (a code point above U+FFFF)
  // against U+E000..U+FFFF: there the surrogate is the larger
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const sx = x >= 0xd800 && x <= 0xdfff;
    const sy = y >= 0xd800 && y <= 0xdfff;
    if (sx === sy) return x < y ? -1 : 1;
    return sx ? 1 : -1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/**
 * `stringid.TruncateID` / `formatter.TruncateID`: drops everything up to the first `:`
 * (e.g. `sha256:`) and keeps at most 12 characters.
 */
export function truncateID(id: string): string {
  const i = id.indexOf(':');
  if (i >= 0) id = id.slice(i + 1);
  return id.length > 12 ? id.slice(0, 12) : id;
}

/** `net.JoinHostPort`: brackets hosts that contain a colon (IPv6). */
export function joinHostPort(host: string, port: string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

// East Asian Wide (W) and Fullwidth (F) ranges (Unicode 15, golang.org/x/text/width).
// biome-ignore format: a data table (East Asian wide ranges), kept five to a line
const WIDE: ReadonlyArray<readonly [number, number]> = [
  [0x1100, 0x115f], [0x231a, 0x231b], [0x2329, 0x232a], [0x23e9, 0x23ec], [0x23f0, 0x23f0],
  [0x23f3, 0x23f3], [0x25fd, 0x25fe], [0x2614, 0x2615], [0x2648, 0x2653], [0x267f, 0x267f],
  [0x2693, 0x2693], [0x26a1, 0x26a1], [0x26aa, 0x26ab], [0x26bd, 0x26be], [0x26c4, 0x26c5],
  [0x26ce, 0x26ce], [0x26d4, 0x26d4], [0x26ea, 0x26ea], [0x26f2, 0x26f3], [0x26f5, 0x26f5],
  [0x26fa, 0x26fa], [0x26fd, 0x26fd], [0x2705, 0x2705], [0x270a, 0x270b], [0x2728, 0x2728],
  [0x274c, 0x274c], [0x274e, 0x274e], [0x2753, 0x2755], [0x2757, 0x2757], [0x2795, 0x2797],
  [0x27b0, 0x27b0], [0x27bf, 0x27bf], [0x2b1b, 0x2b1c], [0x2b50, 0x2b50], [0x2b55, 0x2b55],
  [0x2e80, 0x2e99], [0x2e9b, 0x2ef3], [0x2f00, 0x2fd5], [0x2ff0, 0x2ffb], [0x3000, 0x303e],
  [0x3041, 0x3096], [0x3099, 0x30ff], [0x3105, 0x312f], [0x3131, 0x318e], [0x3190, 0x31e3],
  [0x31f0, 0x321e], [0x3220, 0x3247], [0x3250, 0x4dbf], [0x4e00, 0xa48c], [0xa490, 0xa4c6],
  [0xa960, 0xa97c], [0xac00, 0xd7a3], [0xf900, 0xfaff], [0xfe10, 0xfe19], [0xfe30, 0xfe52],
  [0xfe54, 0xfe66], [0xfe68, 0xfe6b], [0xff01, 0xff60], [0xffe0, 0xffe6], [0x16fe0, 0x16fe4],
  [0x16ff0, 0x16ff1], [0x17000, 0x187f7], [0x18800, 0x18cd5], [0x18d00, 0x18d08],
  [0x1aff0, 0x1affe], [0x1b000, 0x1b122], [0x1b132, 0x1b132], [0x1b150, 0x1b152],
  [0x1b155, 0x1b155], [0x1b164, 0x1b167], [0x1b170, 0x1b2fb], [0x1f004, 0x1f004],
  [0x1f0cf, 0x1f0cf], [0x1f18e, 0x1f18e], [0x1f191, 0x1f19a], [0x1f200, 0x1f202],
  [0x1f210, 0x1f23b], [0x1f240, 0x1f248], [0x1f250, 0x1f251], [0x1f260, 0x1f265],
  [0x1f300, 0x1f320], [0x1f32d, 0x1f335], [0x1f337, 0x1f37c], [0x1f37e, 0x1f393],
  [0x1f3a0, 0x1f3ca], [0x1f3cf, 0x1f3d3], [0x1f3e0, 0x1f3f0], [0x1f3f4, 0x1f3f4],
  [0x1f3f8, 0x1f43e], [0x1f440, 0x1f440], [0x1f442, 0x1f4fc], [0x1f4ff, 0x1f53d],
  [0x1f54b, 0x1f54e], [0x1f550, 0x1f567], [0x1f57a, 0x1f57a], [0x1f595, 0x1f596],
  [0x1f5a4, 0x1f5a4], [0x1f5fb, 0x1f64f], [0x1f680, 0x1f6c5], [0x1f6cc, 0x1f6cc],
  [0x1f6d0, 0x1f6d2], [0x1f6d5, 0x1f6d7], [0x1f6dc, 0x1f6df], [0x1f6eb, 0x1f6ec],
  [0x1f6f4, 0x1f6fc], [0x1f7e0, 0x1f7eb], [0x1f7f0, 0x1f7f0], [0x1f90c, 0x1f93a],
  [0x1f93c, 0x1f945], [0x1f947, 0x1f9ff], [0x1fa70, 0x1fa7c], [0x1fa80, 0x1fa88],
  [0x1fa90, 0x1fabd], [0x1fabf, 0x1fac5], [0x1face, 0x1fadb], [0x1fae0, 0x1fae8],
  [0x1faf0, 0x1faf8], [0x20000, 0x2fffd], [0x30000, 0x3fffd],
];

/** Display width of one code point as the docker CLI counts it: 2 for East Asian Wide/Fullwidth, else 1. */
export function charWidth(cp: number): number {
  let lo = 0;
  let hi = WIDE.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [a, b] = WIDE[mid];
    if (cp < a) hi = mid - 1;
    else if (cp > b) lo = mid + 1;
    else return 2;
  }
  return 1;
}

/**
 * The docker CLI's `formatter.Ellipsis(s, maxDisplayWidth)`: truncates to fit the display width
 * (wide characters count 2) and appends `…`; strings that fit are returned unchanged.
 */
export function ellipsis(s: string, maxDisplayWidth: number): string {
  if (maxDisplayWidth <= 0) return '';
  const rs = Array.from(s);
  if (maxDisplayWidth === 1) return rs.length > 0 ? rs[0] : '';
  const ascii = /^[\x00-\x7f]*$/.test(s);
  if (ascii) {
    if (s.length <= maxDisplayWidth) return s;
    return rs.slice(0, maxDisplayWidth - 1).join('') + '…';
  }
  const display: number[] = [];
  let w = 0;
  for (const r of rs) {
    w += charWidth(r.codePointAt(0)!);
    display.push(w);
  }
  if (w <= maxDisplayWidth) return s;
  for (let i = 0; i < display.length - 1; i++) {
    if (display[i] <= maxDisplayWidth - 1 && display[i + 1] > maxDisplayWidth - 1) {
      return rs.slice(0, i + 1).join('') + '…';
    }
  }
  return s;
}

/**
 * The docker CLI's `formatter.PrettyPrint` for strings (`capitalizeFirst`): first byte upper-cased,
 * the rest lower-cased; a one-character string is lower-cased; `""` stays `""`.
 */
export function prettyPrint(s: string): string {
  if (s.length === 0) return s;
  if (s.length === 1) return s.toLowerCase();
  return s[0].toUpperCase() + s.slice(1).toLowerCase();
}
