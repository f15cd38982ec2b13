/**
 * GET /readyz
 * Readiness: 200 `{"status":"ready", database, facilities}` when the database takes a write,
 * 503 `{"status":"not_ready", …}` when it does not. `facilities` holds each facility's Engine
 * state (`up` with its API version, or `down` with the reason) and never fails readiness.
 * No token. Deployed behind nginx at `/readyz`; every function bundle also answers it.
 */
import { readyz } from '../core/ops.ts';

export default {
  fetch: (): Promise<Response> => readyz(),
};
