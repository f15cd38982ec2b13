/**
 * The month summary's one-pass JSON writer (core/uptime-summary.ts `summaryText`) answers exactly
 * what the object path answers (`pointsText(summaryPoints(…))`): samples and transitions merged
 * (a sample before a transition of the same time), unknown points left out, the last point of a
 * second wins. No Engine, no database.
 */
import { describe, expect, it } from 'vitest';
import { pointsText, summaryPoints, summaryText } from '../../core/uptime-summary.ts';
import type { AppState } from '../../core/uptime-model.ts';

const STATES: AppState[] = ['running', 'not-running', 'unknown'];

/** A seeded generator (mulberry32), so a failure repeats. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** ISO text with nine fractional digits, as the store keeps times. */
const iso = (ns: bigint) => `${new Date(Number(ns / 1_000_000n)).toISOString().slice(0, 19)}.${String(ns % 1_000_000_000n).padStart(9, '0')}Z`;

function history(seed: number) {
  const r = rng(seed);
  let t = 1_780_000_000_000_000_000n;
  const samples: { at: string; state: AppState }[] = [];
  const transitions: { at: string; state: AppState; source: 'event'; action: null }[] = [];
  for (let i = 0; i < 400; i++) {
    // steps from 0 (same instant) to ~2 s, so seconds hold several points
    t += BigInt(Math.floor(r() * 4) === 0 ? 0 : Math.floor(r() * 2_000_000_000));
    const p = { at: iso(t), state: STATES[Math.floor(r() * 3)] };
    if (r() < 0.7) samples.push(p);
    else transitions.push({ ...p, source: 'event', action: null });
  }
  return { samples, transitions, sampleText: samples.map((s) => `${s.at} ${s.state}`).join('\n') };
}

describe('summaryText', () => {
  it('equals the object path on random histories (same instants, same seconds, unknowns)', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const h = history(seed);
      const text = summaryText(h);
      expect(text, `seed ${seed}`).toBe(pointsText(summaryPoints(h)));
      expect(Object.keys(JSON.parse(text!)).length).toBe(summaryPoints(h).length);
    }
  });

  it('an empty history is {}; samples out of time order are left to the sorting path', () => {
    expect(summaryText({ sampleText: '', transitions: [] })).toBe('{}');
    const h = history(7);
    const lines = h.sampleText.split('\n');
    [lines[3], lines[4]] = [lines[4], lines[3]];
    expect(summaryText({ sampleText: lines.join('\n'), transitions: h.transitions })).toBeUndefined();
  });
});
