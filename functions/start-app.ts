/**
 * POST /{facility}/start-app?name=IMAGE--USER[,…]
 * Starts an app (`docker start`; Engine `POST /containers/{id}/start`). Solo mode.
 * 200 `{name, id, state}` (array for several names; 207 when some fail) ·
 * 400 invalid name · 404 unknown facility or app · 409 app is paused (unpause it) · 503/504 Engine.
 */
import { defineAppAction } from '../core/app-action.ts';

export default defineAppAction({ route: 'start-app', summary: 'Start an app', action: 'start' });
