/**
 * GET /{facility}/get-images
 * Every image on the facility's Engine as `docker images --format json` prints it (one row per
 * repository:tag; Engine `GET /images/json`), plus `CreatedContainerCount` (the facility's apps
 * created from that image, from our `image.id` label; the Engine's own count is -1 on older
 * Engines), `ApprovalState` (`approved`, `pending`, `denied`, `none`: whether create-app may use
 * the row's reference here) and `RequestState` (its request's state, or null).
 * 200 array of rows · 401 · 404 unknown facility · 503/504 Engine.
 */
import { imageRows } from '../core/image-reads.ts';
import { defineRoute, json } from '../core/route.ts';

export default defineRoute({
  method: 'GET',
  route: 'get-images',
  summary: 'Images on the Engine, as docker images --format json, with app counts and approval',
  query: {},
  handler: async ({ facility, apps }) => json(await imageRows(facility, apps)),
});
