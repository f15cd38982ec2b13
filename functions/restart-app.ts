/**
 * POST /{facility}/restart-app?name=IMAGE--USER[,…][&timeout=10]
 * Restarts an app (`docker restart`; Engine `POST /containers/{id}/restart?t=`). Solo mode; works on a paused app.
 * 200 `{name, id, state}` · 400 invalid name/timeout · 404 unknown facility or app · 503/504 Engine.
 */
import { defineAppAction } from '../core/app-action.ts';

export default defineAppAction({ route: 'restart-app', summary: 'Restart an app (stop with timeout s grace, then start)', withTimeout: true, action: 'restart' });
