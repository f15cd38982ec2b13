/**
 * The uptime job as a scheduled function (Workers/Deno style): `scheduled(event, env, ctx)`
 * runs one pass over every configured facility, recording app state transitions with their
 * exact Engine times, one sample per app, and a checkpoint, in libSQL (core/uptime-job.ts).
 *
 * Fired by the local runner on `uptime.schedule` (default every minute; `SRC_UPTIME_CRON`), or
 * once from the command line for system cron / systemd timers: `npm run uptime-job`.
 * Several runners may share one libSQL server: a per-facility lease lets one run at a time.
 * After each pass it finishes or rolls back hard resets a crash interrupted and removes unused
 * user networks (core/maintenance.ts).
 */
import { loadConfig } from '../core/config.ts';
import { runUptimeJob, type UptimeJobReport } from '../core/uptime-job.ts';
import { observeUptimeRun } from '../core/metrics.ts';
import { maintainFacilities } from '../core/maintenance.ts';

/** The scheduled event (Workers: `ScheduledController`; Deno.cron: none). */
export interface ScheduledEvent {
  cron?: string;
  scheduledTime?: number;
}

/** The part of a Workers `ExecutionContext` used here. */
export interface ScheduledContext {
  waitUntil?(p: Promise<unknown>): void;
}

export default {
  /** The configured schedule (`uptime.schedule`, `SRC_UPTIME_CRON`; `off` = fired from outside). */
  get cron(): string {
    return loadConfig().uptime.schedule;
  },
  /** One pass over all facilities; resolves with the report (failures are per facility, never thrown). */
  scheduled(_event?: ScheduledEvent, _env?: unknown, ctx?: ScheduledContext): Promise<UptimeJobReport> {
    const run = runUptimeJob().then(async (report) => {
      for (const f of report.facilities) observeUptimeRun(f.facility, f.outcome, f.ms / 1000);
      await maintainFacilities(); // interrupted hard resets, unused user networks (core/maintenance.ts)
      return report;
    });
    ctx?.waitUntil?.(run);
    return run;
  },
};
