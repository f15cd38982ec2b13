/**
 * POST /{facility}/kill-app?name=IMAGE--USER[,…]
 * Kills an app with SIGKILL (`docker kill`; Engine `POST /containers/{id}/kill`). Works on a paused app.
 * 200 `{name, id, state}` · 400 invalid name · 404 unknown facility or app · 409 not running · 503/504 Engine.
 * Swarm mode: removes the app's service (Engine `DELETE /services/{id}`): `{name, id, state: "removed"}`.
 */
import { defineAppAction } from '../core/app-action.ts';

export default defineAppAction({
  route: 'kill-app',
  summary: 'Kill an app (SIGKILL); in swarm mode, remove its service',
  action: 'kill',
});
