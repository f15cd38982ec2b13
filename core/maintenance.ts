/**
 * Housekeeping after a crash or an interrupted cleanup, at the runner's start and after every
 * scheduled uptime job: hard resets a crash interrupted are finished or rolled back
 * (core/reset-recovery.ts, solo mode), and user networks whose user has no app left are removed
 * (core/user-network.ts), after the swarm gateway connectors of gone apps (core/gateway/connector.ts).
 * An unreachable Engine is skipped until the next run.
 *
 * @module
 */
import { RESET_GRACE_MS } from './app-lookup.ts';
import { loadConfig } from './config.ts';
import { getFacility } from './facility.ts';
import { log } from './log.ts';
import { facilityMode } from './mode.ts';
import { appFilter, LABELS } from './naming.ts';
import { recoverResets, type RecoveryReport } from './reset-recovery.ts';
import { listServiceApps } from './services.ts';
import { CONNECTOR_PRUNE_GRACE_MS, pruneConnectors } from './gateway/connector.ts';
import { NETWORK_PRUNE_GRACE_MS, pruneUserNetworks } from './user-network.ts';

/** What {@link maintainFacilities} did in one facility. */
export interface MaintenanceReport extends RecoveryReport {
  /** User networks removed (their users have no app left). */
  networksRemoved: string[];
  /** Swarm: apps whose gateway connectors were removed (the apps are gone). */
  connectorsRemoved: string[];
}

/**
 * Recovers interrupted hard resets older than `resetGraceMs`, removes connectors of gone swarm apps
 * older than `connectorGraceMs`, and prunes unused user networks older than `networkGraceMs` in every configured facility (or those of `facilities`).
 * @returns the reports of the facilities where something was done (never throws)
 */
export async function maintainFacilities(opts: { facilities?: string[]; resetGraceMs?: number; networkGraceMs?: number; connectorGraceMs?: number } = {}): Promise<Record<string, MaintenanceReport>> {
  const { resetGraceMs = RESET_GRACE_MS, networkGraceMs = NETWORK_PRUNE_GRACE_MS, connectorGraceMs = CONNECTOR_PRUNE_GRACE_MS } = opts;
  const out: Record<string, MaintenanceReport> = {};
  await Promise.all(
    (opts.facilities ?? Object.keys(loadConfig().facilities)).map(async (facility) => {
      try {
        const f = getFacility(facility);
        const mode = await facilityMode(f);
        const r: MaintenanceReport = { finished: [], rolledBack: [], failed: [], networksRemoved: [], connectorsRemoved: [] };
        if (mode === 'solo') Object.assign(r, await recoverResets(f, resetGraceMs));
        const usersWithApps = async () => {
          const users =
            mode === 'solo'
              ? (await f.engine.listContainers({ all: true, filters: appFilter(f.id) })).map((c) => c.Labels?.[LABELS.user])
              : (await listServiceApps(f)).map((s) => s.Spec.Labels?.[LABELS.user]);
          return new Set(users.filter(Boolean).map((u) => String(u).toLowerCase()));
        };
        // connectors are attached to their user's overlay: they go before the overlays are pruned
        if (mode === 'swarm') r.connectorsRemoved = await pruneConnectors(f, async () => new Set((await listServiceApps(f)).map((s) => s.Spec.Name.toLowerCase())), connectorGraceMs);
        r.networksRemoved = await pruneUserNetworks(f, mode, usersWithApps, networkGraceMs);
        if (r.finished.length || r.rolledBack.length || r.failed.length || r.networksRemoved.length || r.connectorsRemoved.length) out[facility] = r;
      } catch {
        // the Engine is unreachable now: the next run tries again
      }
    }),
  );
  for (const [facility, r] of Object.entries(out)) {
    if (r.finished.length) log('maintenance').warn('facility {facility}: finished interrupted hard resets of {apps}', { facility, apps: r.finished.join(', ') });
    if (r.rolledBack.length) log('maintenance').warn('facility {facility}: rolled back interrupted hard resets of {apps}', { facility, apps: r.rolledBack.join(', ') });
    for (const x of r.failed) log('maintenance').error('facility {facility}: recovering the hard reset of {app} failed: {detail}', { facility, app: x.name, detail: x.detail });
    if (r.connectorsRemoved.length) log('maintenance').info('facility {facility}: removed the gateway connectors of gone apps {apps}', { facility, apps: r.connectorsRemoved.join(', ') });
    if (r.networksRemoved.length) log('maintenance').info('facility {facility}: removed unused user networks {networks}', { facility, networks: r.networksRemoved.join(', ') });
  }
  return out;
}
