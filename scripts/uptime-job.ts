/**
 * `npm run uptime-job`: one pass of the uptime job over every configured facility, for system
 * cron or a systemd timer (the local runner fires it on its own schedule). Prints the report as
 * JSON; exits 1 if a facility failed unexpectedly (an unreachable Engine is recorded, not a failure),
 * 2 with one line on standard error when it cannot run at all (an invalid configuration, an
 * unusable database).
 */
import uptimeJob from '../functions/uptime-job.ts';
import { closeDb } from '../core/store.ts';

try {
  const report = await uptimeJob.scheduled({ cron: 'cli', scheduledTime: Date.now() });
  console.log(JSON.stringify(report, null, 2));
  process.exitCode = report.facilities.some((f) => f.outcome === 'failed') ? 1 : 0;
} catch (e) {
  console.error(`uptime-job: ${String((e as Error)?.message ?? e).split('\n')[0]}`);
  process.exitCode = 2;
} finally {
  await closeDb().catch(() => undefined);
}
