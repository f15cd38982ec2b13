/**
 * GET /{facility}/get-uptime-summary?name=IMAGE--USER&duration=hour|day|week|month[&detail=true]
 * An app's uptime over the last hour, day, week or month (30 days), from the history the uptime
 * job records (functions/uptime-job.ts). Solo and swarm mode.
 * Default: `{ "2023-06-20T13:50:45Z": true, … }`, UTC seconds -> running (paused = false); the
 * job's samples plus every recorded transition, so a stop between two samples shows; samples
 * taken while the Engine was unreachable are left out.
 * `detail=true`: `{ uptimeRatio, seconds, intervals, transitions, samples, recordedUntil, … }`.
 * An app that exists but has no record yet (created since the job's last run): 200 `{}`
 * (`detail=true`: `uptimeRatio` null, no intervals, the whole window `unrecorded`).
 * 200 · 400 invalid name/duration/detail · 404 unknown facility, or an app that neither exists
 * nor has a record (a deleted app's record stays readable until the retention prunes it).
 */
import { uptimeSummaryJson } from '../core/uptime-summary.ts';
import { defineRoute } from '../core/route.ts';
import { appNameSchema, booleanFlagSchema, durationSchema } from '../core/schemas.ts';

export default defineRoute({
  method: 'GET',
  route: 'get-uptime-summary',
  summary: 'Uptime of an app over the last hour/day/week/month: {UTC second: running}, or detail=true for ratio and intervals',
  query: {
    name: { schema: appNameSchema, required: true, doc: 'app name IMAGE--USER' },
    duration: { schema: durationSchema, required: true, doc: "window: 'hour', 'day', 'week' or 'month' (30 days)" },
    detail: { schema: booleanFlagSchema, doc: 'true: uptime ratio, intervals, transitions and samples instead of the {timestamp: bool} map' },
  },
  handler: async ({ facility, query, apps }) =>
    new Response(await uptimeSummaryJson(facility, query.name, query.duration, { detail: query.detail, exists: async (name) => (await apps()).exists(name) }), {
      headers: { 'content-type': 'application/json; charset=utf-8' },
    }),
});
