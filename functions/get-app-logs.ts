/**
 * GET /{facility}/get-app-logs?name=IMAGE--USER[&tail=200][&since=][&until=][&timestamps=false][&follow=false]
 * What the app printed (`docker logs`; Engine `GET /containers/{id}/logs`), stdout and stderr as
 * whole lines (the Engine's 8-byte frame headers removed; raw output for an app with a TTY;
 * lines longer than the Engine's 16 KiB pieces kept whole). Users read only their own apps.
 * - `tail`: the Engine's log entries from the end, default 200, at most 10000 (a line longer than
 *   16 KiB is several entries, so the first line may be the end of such a line). `since`/`until`: RFC 3339 time, Unix
 *   seconds, or a duration back from now (`15m`, `2h`). `timestamps=true` adds each line's `time`.
 * - 200 `{name, lines: [{stream: "stdout"|"stderr", line, time?, task?}], truncated}`: at most
 *   10 MiB of lines; when the cap is hit, `truncated` says so (else null) and `X-Logs-Truncated: true`.
 * - `follow=true`: 200 `text/event-stream` (Server-Sent Events): `event: log` with one line's
 *   JSON per event, `: keep-alive` comments every 15 s, `event: end` when the app stops; it runs
 *   until the client leaves or the app stops. `curl -N` shows it live.
 * Swarm mode: every current task's container, read from the Engine of its node; lines carry `task`.
 * 400 invalid parameter · 403 another user's app · 404 unknown facility or app · 503/504 Engine.
 */
import { json } from '../core/http.ts';
import { defineRoute } from '../core/route.ts';
import { appNameSchema, booleanFlagSchema } from '../core/schemas.ts';
import { collectLines, DEFAULT_TAIL, logTimeSchema, MAX_TAIL, sseStream, tailSchema } from '../core/logs.ts';

export default defineRoute({
  method: 'GET',
  route: 'get-app-logs',
  summary: 'What an app printed (stdout, stderr), as docker logs; follow=true streams Server-Sent Events',
  query: {
    name: { schema: appNameSchema, required: true, doc: 'app name' },
    tail: { schema: tailSchema, doc: `lines from the end (default ${DEFAULT_TAIL}, at most ${MAX_TAIL})` },
    since: { schema: logTimeSchema(), doc: 'lines from this time on: RFC 3339, Unix seconds, or a duration back (15m, 2h)' },
    until: { schema: logTimeSchema(), doc: 'lines before this time (same forms as since)' },
    timestamps: { schema: booleanFlagSchema, doc: "true: each line's time" },
    follow: { schema: booleanFlagSchema, doc: 'true: stream new lines as Server-Sent Events until the app stops or the client leaves' },
  },
  handler: async ({ apps, query }) => {
    const opts = { tail: query.tail ?? DEFAULT_TAIL, since: query.since, until: query.until, timestamps: query.timestamps ?? false, follow: query.follow ?? false };
    const source = await (await apps()).logs(query.name, opts);
    if (opts.follow) {
      return new Response(sseStream(source), {
        headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' },
      });
    }
    try {
      const answer = await collectLines(query.name, source.lines);
      return json(answer, 200, answer.truncated ? { 'x-logs-truncated': 'true' } : undefined);
    } finally {
      source.close();
    }
  },
});
