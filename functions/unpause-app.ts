/**
 * POST /{facility}/unpause-app?name=IMAGE--USER[,…]
 * Unpauses a paused app (`docker unpause`; Engine `POST /containers/{id}/unpause`). Solo mode.
 * 200 `{name, id, state}` · 400 invalid name · 404 unknown facility or app · 409 not paused · 503/504 Engine.
 */
import { defineAppAction } from '../core/app-action.ts';

export default defineAppAction({ route: 'unpause-app', summary: 'Unpause a paused app', action: 'unpause' });
