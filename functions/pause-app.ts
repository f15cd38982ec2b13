/**
 * POST /{facility}/pause-app?name=IMAGE--USER[,…]
 * Pauses a running app (`docker pause`; Engine `POST /containers/{id}/pause`). Solo mode.
 * 200 `{name, id, state}` · 400 invalid name · 404 unknown facility or app · 409 not running or already paused · 503/504 Engine.
 */
import { defineAppAction } from '../core/app-action.ts';

export default defineAppAction({ route: 'pause-app', summary: 'Pause a running app', action: 'pause' });
