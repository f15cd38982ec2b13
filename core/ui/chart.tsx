/** @jsxImportSource hono/jsx */
/**
 * The uptime chart, drawn on the server as SVG (no chart library to ship): one band per
 * interval of get-uptime-summary's detail, running green, not running red, and unknown
 * (Engine unreachable, or before the first record) hatched grey and labelled as unknown, never
 * as down. A table of the same intervals follows for screen readers.
 * @module
 */

/** get-uptime-summary `detail=true`, the parts drawn. */
export interface UptimeDetailView {
  from: string;
  to: string;
  uptimeRatio: number | null;
  seconds: { running: number; notRunning: number; unknown: number; unrecorded: number };
  intervals: { from: string; to: string; state: 'running' | 'not-running' | 'unknown' }[];
}

const COLORS = { running: '#2b7a3d', 'not-running': '#a51d2d', unknown: 'url(#unknown)' } as const;
const LABEL = { running: 'running', 'not-running': 'not running', unknown: 'unknown' } as const;

/** Percent with one decimal, or "unknown". */
export function ratioText(r: number | null | undefined): string {
  return r === null || r === undefined ? 'unknown' : `${(r * 100).toFixed(1)}%`;
}

function hours(s: number): string {
  return s >= 3600 ? `${(s / 3600).toFixed(1)} h` : s >= 60 ? `${Math.round(s / 60)} min` : `${Math.round(s)} s`;
}

/** The chart and its table. */
export function UptimeChart(p: { d: UptimeDetailView; duration: string }) {
  const t0 = Date.parse(p.d.from);
  const t1 = Date.parse(p.d.to);
  const W = 900;
  const span = Math.max(1, t1 - t0);
  const x = (t: string) => ((Math.min(t1, Math.max(t0, Date.parse(t))) - t0) / span) * W;
  const s = p.d.seconds;
  return (
    <div class="chart" data-uptime-ratio={p.d.uptimeRatio ?? 'unknown'}>
      <p>
        Uptime over the last {p.duration}: <strong data-ratio>{ratioText(p.d.uptimeRatio)}</strong> (running {hours(s.running)}, not running {hours(s.notRunning)}, unknown{' '}
        {hours(s.unknown + s.unrecorded)})
      </p>
      <svg viewBox={`0 0 ${W} 40`} role="img" aria-label={`Uptime of the last ${p.duration}: ${ratioText(p.d.uptimeRatio)} running; see the table below`}>
        <defs>
          <pattern id="unknown" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
            <rect width="8" height="8" fill="#ddd" />
            <line x1="0" y1="0" x2="0" y2="8" stroke="#777" stroke-width="3" />
          </pattern>
        </defs>
        <rect x="0" y="0" width={W} height="40" fill="url(#unknown)" />
        {p.d.intervals.map((i) => (
          <rect x={x(i.from)} y="0" width={Math.max(0.5, x(i.to) - x(i.from))} height="40" fill={COLORS[i.state]} data-state={i.state} />
        ))}
      </svg>
      <p class="legend">
        <span>
          <i class="sw" style={`background:${COLORS.running}`} />
          running
        </span>
        <span>
          <i class="sw" style={`background:${COLORS['not-running']}`} />
          not running
        </span>
        <span>
          <i class="sw" style="background:repeating-linear-gradient(45deg,#777 0 3px,#ddd 3px 8px)" />
          unknown (no record)
        </span>
      </p>
      <details>
        <summary>Intervals ({p.d.intervals.length})</summary>
        <section class="tablewrap" aria-label="Uptime intervals" tabindex={0}>
          <table>
            <caption class="muted">
              From {p.d.from} to {p.d.to}; time not covered by an interval is unknown
            </caption>
            <thead>
              <tr>
                <th scope="col">From</th>
                <th scope="col">To</th>
                <th scope="col">State</th>
              </tr>
            </thead>
            <tbody>
              {p.d.intervals.map((i) => (
                <tr>
                  <td>{i.from}</td>
                  <td>{i.to}</td>
                  <td>{LABEL[i.state]}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      </details>
    </div>
  );
}
