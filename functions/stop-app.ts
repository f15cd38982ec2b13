/**
 * POST /{facility}/stop-app?name=IMAGE--USER[,…][&timeout=10]
 * Stops an app: SIGTERM, SIGKILL after `timeout` s (`docker stop`; Engine `POST /containers/{id}/stop?t=`).
 * Solo mode. Works on a paused app. A stopped app stays stopped (200).
 * 200 `{name, id, state}` · 400 invalid name/timeout · 404 unknown facility or app · 503/504 Engine.
 */
import { defineAppAction } from '../core/app-action.ts';

export default defineAppAction({ route: 'stop-app', summary: 'Stop an app (SIGTERM, then SIGKILL after timeout s, default 10)', withTimeout: true, action: 'stop' });
