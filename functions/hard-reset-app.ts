/**
 * POST /{facility}/hard-reset-app?name=IMAGE--USER[,…]
 * Recreates an app from its original image (by ID; the reference if that image is gone) and its
 * create parameters, same name; its data is discarded; a running or paused app is started again.
 * Solo mode. 200 `{name, id, state, previousId, image: {source, id, reference}}` ·
 * 400 invalid name · 403 `image_not_approved` when the app's image is no longer approved (app
 * unchanged) · 404 unknown facility or app, or no image to reset from (app unchanged) ·
 * 409 concurrent change · 503/504 Engine.
 */
import { defineAppAction } from '../core/app-action.ts';
import { assertApproved } from '../core/images/approval.ts';

export default defineAppAction({
  route: 'hard-reset-app',
  summary: 'Recreate an app from its original image, discarding its data',
  action: 'hard-reset',
  options: (f) => ({ assertImage: (ref) => assertApproved(f, ref) }),
});
