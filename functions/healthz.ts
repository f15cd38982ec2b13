/**
 * GET /healthz
 * Liveness: 200 `{"status":"ok"}` while the process serves (no token, no database, no Engine).
 * Deployed behind nginx at `/healthz`; every function bundle also answers it on its own port.
 */
import { healthz } from '../core/ops.ts';

export default {
  fetch: (): Response => healthz(),
};
