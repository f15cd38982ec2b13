/**
 * core/logs.ts: the Engine's multiplexed log stream cut at every possible chunk boundary, raw
 * TTY output, lines longer than the Engine's 16 KiB pieces (with and without timestamps), and
 * the since/until forms.
 */
import { describe, expect, it } from 'vitest';
import { collectLines, engineTime, LogDemuxer, type LogLine } from '../../core/logs.ts';

function frame(stream: 1 | 2, text: string): Uint8Array {
  const body = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + body.length);
  out[0] = stream;
  new DataView(out.buffer).setUint32(4, body.length);
  out.set(body, 8);
  return out;
}
function join(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) out.set(p, o), (o += p.length);
  return out;
}
function demux(bytes: Uint8Array, cut: number[], opts: { tty: boolean; timestamps: boolean }): LogLine[] {
  const d = new LogDemuxer(opts);
  const out: LogLine[] = [];
  let prev = 0;
  for (const c of [...cut, bytes.length]) {
    out.push(...d.push(bytes.subarray(prev, c)));
    prev = c;
  }
  return [...out, ...d.end()];
}

describe('LogDemuxer', () => {
  const bytes = join([frame(1, 'out-1\nout-'), frame(2, 'err-1\r\n'), frame(1, '2\n'), frame(2, 'ünï\n'), frame(1, 'last without newline')]);
  const expected = [
    { stream: 'stderr', line: 'err-1' },
    { stream: 'stdout', line: 'out-1' },
    { stream: 'stdout', line: 'out-2' },
    { stream: 'stderr', line: 'ünï' },
    { stream: 'stdout', line: 'last without newline' },
  ];
  const sortKey = (l: LogLine) => `${l.stream}:${l.line}`;

  it('reassembles frames and lines cut at every byte boundary', () => {
    for (let i = 1; i < bytes.length; i++) {
      for (const j of [i + 1, i + 7]) {
        const lines = demux(bytes, j < bytes.length ? [i, j] : [i], { tty: false, timestamps: false });
        expect(lines.map(sortKey).sort()).toEqual(expected.map((l) => sortKey(l as LogLine)).sort());
        // each stream keeps its order
        expect(lines.filter((l) => l.stream === 'stdout').map((l) => l.line)).toEqual(['out-1', 'out-2', 'last without newline']);
      }
    }
  });

  it('takes a TTY stream as raw stdout', () => {
    const raw = new TextEncoder().encode('hello\r\nworld\npartial');
    for (let i = 1; i < raw.length; i++) {
      expect(demux(raw, [i], { tty: true, timestamps: false })).toEqual([
        { stream: 'stdout', line: 'hello' },
        { stream: 'stdout', line: 'world' },
        { stream: 'stdout', line: 'partial' },
      ]);
    }
  });

  it("keeps a line longer than the Engine's 16 KiB pieces whole, dropping the pieces' own timestamps", () => {
    const long = 'x'.repeat(40_000);
    const ts = ['2026-12-04T10:00:00.000000001Z', '2026-12-04T10:00:00.000000002Z', '2026-12-04T10:00:00.000000003Z'];
    const pieces = [long.slice(0, 16384), long.slice(16384, 32768), long.slice(32768) + '\n'];
    const withTs = join(pieces.map((p, i) => frame(1, `${ts[i]} ${p}`)));
    const lines = demux(withTs, [100, 16400, 20000], { tty: false, timestamps: true });
    expect(lines).toEqual([{ stream: 'stdout', line: long, time: ts[0] }]);
    const plain = join(pieces.map((p) => frame(1, p)));
    expect(demux(plain, [5], { tty: false, timestamps: false })).toEqual([{ stream: 'stdout', line: long }]);
  });
});

describe('answers', () => {
  it('caps an answer and says so', async () => {
    async function* many() {
      for (let i = 0; i < 100; i++) yield { stream: 'stdout' as const, line: 'y'.repeat(99) };
    }
    const a = await collectLines('x--u', many(), 1000);
    expect(a.lines.length).toBe(10);
    expect(a.truncated).toMatch(/capped at 1000 bytes/);
  });
});

describe('engineTime', () => {
  const now = Date.parse('2026-12-04T10:00:00Z');
  const s = now / 1000;
  it('takes RFC 3339, Unix seconds and durations back from now', () => {
    expect(engineTime('2026-12-04T10:00:00.5Z', now)).toBe(`${s}.500000000`);
    expect(engineTime('2026-12-04T11:00:00+01:00', now)).toBe(`${s}.000000000`);
    expect(engineTime(String(s), now)).toBe(`${s}.000000000`);
    expect(engineTime('15m', now)).toBe(`${s - 900}.000000000`);
    expect(engineTime('yesterday', now)).toBeUndefined();
    expect(engineTime('2026-12-04T10:00:00', now)).toBeUndefined();
  });
});
