/**
 * `npm run uptime-job`: one pass of the uptime job over every configured facility, for system
 * cron or a systemd timer (the local runner fires it on its own schedule). Prints the report as
 * JSON; exits 1 if a facility failed unexpectedly (an unreachable Engine is recorded, not a failure).
 */
import uptimeJob from '../functions/uptime-job.ts';
import { closeDb } from '../core/store.ts';

const report = await uptimeJob.scheduled({ cron: 'cli', scheduledTime: Date.now() });
console.log(JSON.stringify(report, null, 2));
await closeDb();
process.exitCode = report.facilities.some((f) => f.outcome === 'failed') ? 1 : 0;
