/**
 * The cost of the proxy hop: one GET route called N times directly on its function process and
 * N times through nginx, interleaved (so both see the same machine load), with keep-alive
 * connections on both hops; prints median and p90 of each and the added latency. The function
 * runs on Node and on Deno (one process each), on sqld, with the local Engine.
 *
 *   npm run build && npx tsx scripts/bench-proxy.ts [--n 500] [--route get-app-names] [--query 'user=nobody']
 *
 * @module
 */
import { parseArgs } from 'node:util';
import { generateToken } from '../core/auth.ts';
import { startLocalDeployment } from './local-deploy.ts';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '500' },
    warmup: { type: 'string', default: '50' },
    route: { type: 'string', default: 'get-app-names' },
    query: { type: 'string', default: 'user=benchnobody' },
    facility: { type: 'string', default: 'demo' },
    config: { type: 'string' },
  },
});
const n = Number(values.n);
const warmup = Number(values.warmup);
const route = values.route!;
const token = process.env.SRC_ADMIN_TOKEN ?? generateToken();
const path = `/${values.facility}/${route}${values.query ? `?${values.query}` : ''}`;

function quantile(sorted: number[], q: number): number {
  const i = (sorted.length - 1) * q;
  const lo = Math.floor(i);
  return sorted[lo] + (sorted[Math.ceil(i)] - sorted[lo]) * (i - lo);
}

async function timed(url: string): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  await res.arrayBuffer();
  const ms = performance.now() - t0;
  if (res.status !== 200) throw new Error(`${url}: ${res.status}`);
  return ms;
}

console.log(`GET ${path}: ${n} requests each way, interleaved, keep-alive, after ${warmup} warm-up pairs`);
for (const runtime of ['node', 'deno'] as const) {
  const d = await startLocalDeployment({
    config: values.config,
    functions: { outline: ['node'], [route]: [runtime] },
    env: { SRC_ADMIN_TOKEN: token },
    proxy: { rateLimit: { rate: '100000r/s', burst: 100000 } },
  });
  try {
    const direct = `${d.direct(route)}${path}`;
    const proxied = `${d.url}${path}`;
    for (let k = 0; k < warmup; k++) {
      await timed(direct);
      await timed(proxied);
    }
    const a: number[] = [];
    const b: number[] = [];
    for (let k = 0; k < n; k++) {
      a.push(await timed(direct));
      b.push(await timed(proxied));
    }
    a.sort((x, y) => x - y);
    b.sort((x, y) => x - y);
    const fmt = (xs: number[]) => `median ${quantile(xs, 0.5).toFixed(2)} ms  p90 ${quantile(xs, 0.9).toFixed(2)} ms`;
    console.log(`  ${runtime.padEnd(4)}  direct  ${fmt(a)}`);
    console.log(`        nginx   ${fmt(b)}   proxy hop: +${(quantile(b, 0.5) - quantile(a, 0.5)).toFixed(2)} ms median`);
  } finally {
    await d.stop();
  }
}
