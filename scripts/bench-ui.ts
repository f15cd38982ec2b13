/**
 * `npx tsx scripts/bench-ui.ts`: the dashboard's first page in Debian's chromium (playwright-core).
 *
 * Starts the runner in-process on a free loopback port with its own data directory, creates
 * `--apps N` apps (default 5) for a unique user, signs in with that user's token, and reports
 * for the sign-in page and the apps page (median of `--rounds R`, default 10, fresh browser
 * context each: no cache): the bytes transferred (HTML, CSS, JS: the whole page) and the time
 * to first contentful paint. Goal (issue 16): under 100 KB and 300 ms. Removes what it created.
 */
import { parseArgs } from 'node:util';
import { mkdirSync, writeFileSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { generateToken, mintToken } from '../core/auth.ts';
import { Engine } from '../core/engine.ts';
import { LABELS } from '../core/naming.ts';
import { NETWORK_LABELS } from '../core/user-network.ts';

const { values } = parseArgs({ options: { apps: { type: 'string', default: '5' }, rounds: { type: 'string', default: '10' } } });
process.env.SRC_ADMIN_TOKEN ??= generateToken();
process.env.SRC_DATA_DIR ??= `/tmp/src-bench-ui-${process.pid}`;
process.env.SRC_UPTIME_CRON = 'off';
process.env.SRC_LOG_LEVEL ??= 'warning';
const benchConfig = `${process.env.SRC_DATA_DIR}/bench-config.json`;
mkdirSync(process.env.SRC_DATA_DIR, { recursive: true });
writeFileSync(benchConfig, JSON.stringify({ facilities: { demo: { mode: 'solo', publishHost: '127.0.0.1', images: { approved: ['docker.io/src-test/*'] } } } }));
process.env.SRC_CONFIG ??= benchConfig;
const { buildApp } = await import('../wrangler-local/app.ts');
const { startServer } = await import('../wrangler-local/server.ts');

const user = `benchui${Math.random().toString(36).slice(2, 8)}`;
const server = await startServer(buildApp({ log: false, rateLimit: 0 }), '127.0.0.1', 0);
const base = `http://127.0.0.1:${server.port}`;
const engine = new Engine({ host: process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock' });
const admin = { authorization: `Bearer ${process.env.SRC_ADMIN_TOKEN}` };
let browser: Browser | undefined;
try {
  for (let i = 0; i < Number(values.apps); i++) {
    const image = i % 2 ? 'src-test/httpd' : 'src-test/busybox';
    const name = `${user}${i}`;
    const r = await fetch(`${base}/demo/create-app?image=${image}&user=${name}`, { method: 'POST', headers: admin });
    if (r.status !== 201) throw new Error(`create-app: ${r.status} ${await r.text()}`);
  }
  const { token } = await mintToken({ role: 'admin', name: 'bench-ui' });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
  const measure = async (signedIn: boolean) => {
    const ctx = await browser!.newContext();
    if (signedIn) {
      const p = await ctx.newPage();
      await p.goto(`${base}/ui/`);
      await p.fill('#token', token);
      await Promise.all([p.waitForNavigation(), p.click('button:has-text("Sign in with token")')]);
      await p.close();
    }
    const page = await ctx.newPage();
    await page.goto(`${base}/ui/${signedIn ? 'demo/apps' : ''}`, { waitUntil: 'load' });
    const fcp = await page.evaluate(
      () =>
        new Promise<number>((resolve) => {
          const e = performance.getEntriesByName('first-contentful-paint')[0];
          if (e) return resolve(e.startTime);
          new PerformanceObserver((l) => resolve(l.getEntries()[0].startTime)).observe({ type: 'paint', buffered: true });
        }),
    );
    // every response of the page, headers included (transferSize), as the browser counted them
    const bytes = await page.evaluate(() => (performance.getEntries() as PerformanceResourceTiming[]).reduce((n, e) => n + (e.transferSize ?? 0), 0));
    await ctx.close();
    return { bytes, fcp };
  };
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  for (const [label, signedIn] of [
    ['sign-in page', false],
    [`apps page (${values.apps} apps)`, true],
  ] as const) {
    await measure(signedIn); // warm-up
    const runs = [];
    for (let i = 0; i < Number(values.rounds); i++) runs.push(await measure(signedIn));
    console.log(
      `${label}: ${(median(runs.map((r) => r.bytes)) / 1024).toFixed(1)} KB transferred, first contentful paint ${median(runs.map((r) => r.fcp)).toFixed(0)} ms (median of ${values.rounds})`,
    );
  }
} finally {
  await browser?.close();
  const left = await engine.listContainers({ all: true, filters: { label: [`${LABELS.user}`] } });
  await Promise.all(left.filter((c) => (c.Labels?.[LABELS.user] ?? '').startsWith(user)).map((c) => engine.removeContainer(c.Id, { force: true, v: true })));
  const nets = await engine.listNetworks({ filters: { label: [NETWORK_LABELS.user] } });
  await Promise.all(nets.filter((n) => (n.Labels?.[NETWORK_LABELS.user] ?? '').startsWith(user.toLowerCase())).map((n) => engine.removeNetwork(n.Id).catch(() => undefined)));
  await server.close();
}
process.exit(0);
