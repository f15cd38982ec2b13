/**
 * WebSocket steps run inside a Chromium page (playwright-core), shared by the gateway tests
 * (test/e2e/gateway.test.ts, test/swarm/gateway.test.ts).
 */
import type { Page } from 'playwright-core';

/** Sends `text` on the page's open `window.ws` and waits for its echo (rejects after 10 s). */
export function sendAgain(page: Page, text: string): Promise<string> {
  return page.evaluate(
    (t) =>
      new Promise<string>((resolve, reject) => {
        const ws = (window as any).ws as WebSocket;
        ws.onmessage = (m) => resolve(String(m.data));
        ws.send(t);
        setTimeout(() => reject(new Error('no echo')), 10_000);
      }),
    text,
  );
}

/**
 * From the page's origin, dials the WebSocket `url` and sends `stolen`: `echo:stolen` when the
 * gateway let it through, `refused` when the connection failed, `timeout` after 10 s.
 */
export function dialFromPage(page: Page, url: string): Promise<string> {
  return page.evaluate(
    (u) =>
      new Promise<string>((resolve) => {
        const s = new WebSocket(u);
        s.onopen = () => s.send('stolen');
        s.onmessage = (m) => resolve(`echo:${m.data}`);
        s.onerror = () => resolve('refused');
        setTimeout(() => resolve('timeout'), 10_000);
      }),
    url,
  );
}
