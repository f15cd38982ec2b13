/**
 * GET /metrics
 * Prometheus exposition (text/plain; version=0.0.4) for an admin token
 * (`Authorization: Bearer …`): this process's series and the gauges computed at scrape time
 * from the Engines and the database (apps by state per facility, Engine up, image requests by
 * state, uptime job last success and lag; core/metrics.ts). Deployed behind nginx at `/metrics`.
 * Every other function bundle answers `GET /metrics` with its own process's series (nginx:
 * `/metrics/{function}/{replica}`). 401/403 problem+json without an admin token.
 */
import { metrics } from '../core/ops.ts';

export default {
  fetch: (req: Request): Promise<Response> => metrics(req, { shared: true }),
};
