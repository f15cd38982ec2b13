/**
 * `defineAppAction`: the shape shared by the lifecycle routes (start, stop, pause, unpause,
 * restart, kill, delete, hard-reset): `POST /{facility}/{route}?name=a[,b,...]`, each name
 * acted on concurrently by the facility's app backend (core/backend.ts), answered as a batch
 * (core/http.ts: the object for one name; 200, 207 or a problem carrying every result for several).
 * @module
 */
import { ACTIONS, type ActionOptions, type AppAction } from './backend.ts';
import type { Mode } from './mode.ts';
import type { Facility } from './facility.ts';
import { batchResponse } from './http.ts';
import { defineRoute, type RouteFunction } from './route.ts';
import { appNamesSchema, timeoutSchema } from './schemas.ts';

const nameParam = { schema: appNamesSchema, required: true as const, doc: 'app name IMAGE--USER, or several comma-separated' };
const timeoutParam = { schema: timeoutSchema, doc: 'seconds of SIGTERM grace before SIGKILL (default 10)' };

/**
 * Defines a lifecycle route running `action` (core/backend.ts) on each named app.
 * `options` adds per-facility options (e.g. hard reset's image check).
 */
export function defineAppAction(def: { route: string; summary: string; action: AppAction; withTimeout?: boolean; options?: (f: Facility) => ActionOptions }): RouteFunction {
  const query: { name: typeof nameParam; timeout?: typeof timeoutParam } = def.withTimeout ? { name: nameParam, timeout: timeoutParam } : { name: nameParam };
  return defineRoute({
    method: 'POST',
    route: def.route,
    summary: def.summary,
    // the modes whose backend has the action (core/backend.ts ACTIONS): 409 wrong_mode in the others
    modes: (Object.keys(ACTIONS) as Mode[]).filter((m) => ACTIONS[m].includes(def.action)),
    query: query as { name: typeof nameParam; timeout: typeof timeoutParam },
    handler: async ({ facility, query, apps }) => {
      const opts: ActionOptions = { ...def.options?.(facility), timeout: query.timeout ?? 10 };
      return batchResponse(await (await apps()).act(def.action, query.name, opts));
    },
  });
}
