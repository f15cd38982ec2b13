/**
 * Every route function, in the spec's order. The local runner mounts these; each is also
 * bundled on its own for deployment behind a reverse proxy.
 */
import type { RouteFunction, RouteMeta } from '../core/route.ts';
import startApp from './start-app.ts';
import stopApp from './stop-app.ts';
import pauseApp from './pause-app.ts';
import unpauseApp from './unpause-app.ts';
import restartApp from './restart-app.ts';
import killApp from './kill-app.ts';
import createApp from './create-app.ts';
import deleteApp from './delete-app.ts';
import hardResetApp from './hard-reset-app.ts';
import getUsers from './get-users.ts';
import getAppNames from './get-app-names.ts';
import getAppStatus from './get-app-status.ts';
import getAppStats from './get-app-stats.ts';
import getAppInfo from './get-app-info.ts';
import getAppLogs from './get-app-logs.ts';
import getNodeNames from './get-node-names.ts';
import getNodeStatus from './get-node-status.ts';
import getNodeInfo from './get-node-info.ts';
import getUptimeSummary from './get-uptime-summary.ts';
import getAuditLog from './get-audit-log.ts';
import requestImage from './request-image.ts';
import getImages from './get-images.ts';
import getImageRequests from './get-image-requests.ts';
import approveImage from './approve-image.ts';
import denyImage from './deny-image.ts';
import getAppUrl from './get-app-url.ts';
import openApp from './open-app.ts';

/** All route functions. */
export const routes: RouteFunction[] = [
  startApp,
  stopApp,
  pauseApp,
  unpauseApp,
  restartApp,
  killApp,
  createApp,
  deleteApp,
  hardResetApp,
  getUsers,
  getAppNames,
  getAppStatus,
  getAppStats,
  getAppInfo,
  getAppLogs,
  getNodeNames,
  getNodeStatus,
  getNodeInfo,
  getUptimeSummary,
  requestImage,
  getImages,
  getImageRequests,
  approveImage,
  denyImage,
  getAuditLog,
  getAppUrl,
  openApp,
];

/** Metadata of all routes (for the outline at `GET /`). */
export function routeMetas(): RouteMeta[] {
  return routes.map((r) => r.meta);
}
