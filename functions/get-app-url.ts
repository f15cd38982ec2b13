/**
 * GET /{facility}/get-app-url?name=IMAGE--USER
 * The app's stable URL behind the gateway (core/gateway/url.ts): per-app subdomain
 * `http://<label>.<apps domain>/` by default, or `…/apps/{facility}/{name}/` in path mode. The
 * URL does not change when the app restarts, is reset or is recreated. Opening it in a browser
 * needs a sign-in: `open-app` answers a link that sets it.
 * 200 `{name, url}` · 400 invalid or missing name · 403 another user's app · 404 unknown facility or app · 503/504 Engine.
 */
import { defineRoute, json } from '../core/route.ts';
import { appNameSchema } from '../core/schemas.ts';
import { appAddress } from '../core/gateway/url.ts';
import { loadConfig } from '../core/config.ts';
import { splitAppName } from '../core/naming.ts';

export default defineRoute({
  method: 'GET',
  route: 'get-app-url',
  summary: "The app's URL behind the gateway",
  query: { name: { schema: appNameSchema, required: true, doc: 'app name IMAGE--USER' } },
  handler: async ({ apps, facility, query }) => {
    const names = await (await apps()).names(splitAppName(query.name).user);
    const name = names.find((n) => n.toLowerCase() === query.name.toLowerCase());
    if (!name) return json(await (await apps()).info(query.name)); // the backend's 404 app_not_found
    return json({ name, url: (await appAddress(loadConfig().gateway, facility.id, name)).url });
  },
});
