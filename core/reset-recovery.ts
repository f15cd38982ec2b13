/**
 * Recovery of hard resets a crash interrupted (solo mode). A hard reset (core/apps.ts) creates
 * the replacement `NAME.reset-<ms>-<hex>`, removes the old container, renames the replacement
 * to NAME and starts it when the old one ran. A process killed between two steps leaves:
 *
 * 1. the old container and the replacement: rolled back (the replacement is removed; the app
 *    is as it was);
 * 2. only the replacement: finished (renamed to NAME, started when the reset meant to start it;
 *    any older replacement of the same app removed);
 * 3. NAME renamed but never started although the old container ran (label
 *    {@link RESET_START_LABEL}): finished (started).
 *
 * Only replacements older than `graceMs` are touched (default: core/app-lookup.ts
 * `RESET_GRACE_MS`), so a reset still running in another process is left alone. Runs at the
 * runner's start and after every scheduled uptime job (core/maintenance.ts).
 *
 * @module
 */
import { RESET_GRACE_MS, resetStartedAt } from './app-lookup.ts';
import { EngineError } from './engine.ts';
import type { Facility } from './facility.ts';
import { appFilter, LABEL_PREFIX, LABELS } from './naming.ts';

/** Set on a replacement whose app was running or paused: the reset starts it after the rename. */
export const RESET_START_LABEL = `${LABEL_PREFIX}reset.start`;

/** What {@link recoverResets} did, by app name. */
export interface RecoveryReport {
  /** Apps whose replacement was renamed (and started when meant to): case 2 and 3. */
  finished: string[];
  /** Apps whose surplus replacement was removed, the old container kept: case 1. */
  rolledBack: string[];
  /** Apps whose recovery failed (left for the next run), with the reason. */
  failed: { name: string; detail: string }[];
}

/**
 * Finds hard-reset leftovers of facility `f` older than `graceMs` and finishes or rolls them back.
 * @returns the apps finished, rolled back, and failed (never throws for one app's failure)
 */
export async function recoverResets(f: Facility, graceMs = RESET_GRACE_MS, now = Date.now()): Promise<RecoveryReport> {
  const report: RecoveryReport = { finished: [], rolledBack: [], failed: [] };
  const list: any[] = await f.engine.listContainers({ all: true, filters: appFilter(f.id) });
  const byApp = new Map<string, { app?: any; resets: any[] }>();
  for (const c of list) {
    const app = c.Labels?.[LABELS.app];
    const n: string | undefined = c.Names?.[0];
    if (!app || !n) continue;
    const entry = byApp.get(app) ?? { resets: [] };
    if (n === `/${app}`) entry.app = c;
    else if (n.startsWith(`/${app}.reset-`)) {
      const started = resetStartedAt(n);
      if (started === undefined || now - started > graceMs) entry.resets.push(c);
    }
    byApp.set(app, entry);
  }
  for (const [name, { app, resets }] of byApp) {
    try {
      if (app) {
        if (app.State === 'removing') continue; // a removal still under way decides the case: next run
        if (resets.length) {
          // case 1: the old container is still there; the replacement is surplus
          for (const r of resets) await removeQuietly(f, r.Id);
          report.rolledBack.push(name);
        } else if (app.Labels?.[RESET_START_LABEL] === '1' && app.State === 'created') {
          // case 3: renamed, not started (a created container has never run)
          await startQuietly(f, app.Id);
          report.finished.push(name);
        }
        continue;
      }
      if (!resets.length) continue;
      // case 2: the old container is gone; the newest replacement becomes the app
      resets.sort((a, b) => (resetStartedAt(b.Names[0]) ?? 0) - (resetStartedAt(a.Names[0]) ?? 0));
      const [keep, ...rest] = resets;
      for (const r of rest) await removeQuietly(f, r.Id);
      await f.engine.renameContainer(keep.Id, name);
      if (keep.Labels?.[RESET_START_LABEL] === '1') await startQuietly(f, keep.Id);
      report.finished.push(name);
    } catch (e) {
      report.failed.push({ name, detail: (e as Error)?.message ?? String(e) });
    }
  }
  return report;
}

async function removeQuietly(f: Facility, id: string): Promise<void> {
  try {
    await f.engine.removeContainer(id, { force: true, v: true });
  } catch (e) {
    if (!(e instanceof EngineError && e.statusCode === 404)) throw e;
  }
}

async function startQuietly(f: Facility, id: string): Promise<void> {
  try {
    await f.engine.startContainer(id);
  } catch (e) {
    if (!(e instanceof EngineError && e.statusCode === 304)) throw e;
  }
}
