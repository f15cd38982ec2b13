/**
 * `defineAppAction`: the shape shared by the lifecycle routes (start, stop, pause, unpause,
 * restart, kill, delete, hard-reset): `POST /{facility}/{route}?name=a[,b,...]`, each name
 * acted on concurrently, answered by {@link runBatch}.
 * @module
 */
import { runBatch, type AppResult } from './apps.ts';
import type { Facility } from './facility.ts';
import { defineRoute, json, type RouteFunction } from './route.ts';
import { appNamesSchema, timeoutSchema } from './schemas.ts';

const nameParam = { schema: appNamesSchema, required: true as const, doc: 'app name IMAGE--USER, or several comma-separated' };
const timeoutParam = { schema: timeoutSchema, doc: 'seconds of SIGTERM grace before SIGKILL (default 10)' };

/** Defines a lifecycle route. `action` receives the facility, one app name and the timeout (s). */
export function defineAppAction(def: {
  route: string;
  summary: string;
  modes?: ('solo' | 'swarm')[];
  withTimeout?: boolean;
  action: (f: Facility, name: string, timeout: number) => Promise<AppResult>;
}): RouteFunction {
  const query: { name: typeof nameParam; timeout?: typeof timeoutParam } = def.withTimeout ? { name: nameParam, timeout: timeoutParam } : { name: nameParam };
  return defineRoute({
    method: 'POST',
    route: def.route,
    summary: def.summary,
    modes: def.modes ?? ['solo'],
    query: query as { name: typeof nameParam; timeout: typeof timeoutParam },
    handler: async ({ facility, query }) => {
      const timeout = query.timeout ?? 10;
      const r = await runBatch(query.name, (n) => def.action(facility, n, timeout));
      return json(r.body, r.status);
    },
  });
}
