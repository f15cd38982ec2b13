/**
 * POST /{facility}/delete-app?name=IMAGE--USER[,…]
 * Deletes an app: its container, even running or paused, and its anonymous volumes
 * (`docker rm -fv`; Engine `DELETE /containers/{id}?force=1&v=1`). Solo mode.
 * 200 `{name, id, state: "deleted"}` · 400 invalid name · 404 unknown facility or app · 503/504 Engine.
 */
import { defineAppAction } from '../core/app-action.ts';

export default defineAppAction({ route: 'delete-app', summary: 'Delete an app and all its data', action: 'delete' });
