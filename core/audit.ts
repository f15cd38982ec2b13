/**
 * The audit log: every mutating call (who, on behalf of whom, facility, route, target,
 * result, duration) in libSQL, written by the core middleware (core/route.ts) for every POST
 * route, successful or not.
 * @module
 */
import { domainDb, withBusyRetry, type Migration } from './store.ts';

const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'audit',
    sql: [
      `CREATE TABLE audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        request_id TEXT NOT NULL,
        facility TEXT NOT NULL,
        route TEXT NOT NULL,
        subject TEXT NOT NULL,
        subject_name TEXT NOT NULL,
        role TEXT NOT NULL,
        on_behalf_of TEXT,
        target TEXT,
        target_user TEXT,
        status INTEGER NOT NULL,
        result TEXT NOT NULL,
        duration_ms INTEGER NOT NULL
      )`,
      'CREATE INDEX audit_facility_at ON audit (facility, at)',
      'CREATE INDEX audit_facility_user_at ON audit (facility, target_user, at)',
    ],
  },
];

const auditDb = domainDb('audit', MIGRATIONS);

/**
 * One audit entry. Times are UTC ISO-8601; `result` is `ok`, `partial` (207: some names
 * failed), the error code, or `pending` (status 0: the call's outcome was never recorded, e.g.
 * the server was killed while it acted); `targetUser` lists every user the call touched, comma-separated.
 */
export interface AuditEntry {
  at: string;
  requestId: string;
  facility: string;
  route: string;
  subject: string;
  subjectName: string;
  role: string;
  onBehalfOf?: string;
  target?: string;
  targetUser?: string;
  status: number;
  result: string;
  durationMs: number;
}

/** Appends an entry (retried while the database is busy). */
export async function recordAudit(e: AuditEntry): Promise<void> {
  const db = await auditDb();
  await withBusyRetry(() =>
    db.execute({
      sql: `INSERT INTO audit (at, request_id, facility, route, subject, subject_name, role, on_behalf_of, target, target_user, status, result, duration_ms)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      args: [e.at, e.requestId, e.facility, e.route, e.subject, e.subjectName, e.role, e.onBehalfOf ?? null, e.target ?? null, e.targetUser ?? null, e.status, e.result, e.durationMs],
    }),
  );
}

/**
 * Records the intent of a mutating call before it acts: an entry with status 0 and result
 * `pending`, completed by {@link completeAudit}. A crash in between leaves the `pending` entry,
 * so no change happens without a record.
 * @returns the entry's id
 * @throws the database's error (the caller refuses the action then)
 */
export async function recordIntent(e: Omit<AuditEntry, 'status' | 'result' | 'durationMs'>): Promise<number> {
  const db = await auditDb();
  const r = await withBusyRetry(() =>
    db.execute({
      sql: `INSERT INTO audit (at, request_id, facility, route, subject, subject_name, role, on_behalf_of, target, target_user, status, result, duration_ms)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 'pending', 0)`,
      args: [e.at, e.requestId, e.facility, e.route, e.subject, e.subjectName, e.role, e.onBehalfOf ?? null, e.target ?? null, e.targetUser ?? null],
    }),
  );
  return Number(r.lastInsertRowid);
}

/** Records the outcome of a call whose intent {@link recordIntent} wrote (status, result, duration). */
export async function completeAudit(id: number, o: { status: number; result: string; durationMs: number }): Promise<void> {
  const db = await auditDb();
  await withBusyRetry(() => db.execute({ sql: 'UPDATE audit SET status = ?, result = ?, duration_ms = ? WHERE id = ?', args: [o.status, o.result, o.durationMs, id] }));
}

/** Filters of {@link queryAudit}; times are ISO-8601, `limit` at most 1000 (default 100). */
export interface AuditQuery {
  facility: string;
  route?: string;
  user?: string;
  subject?: string;
  since?: string;
  until?: string;
  failed?: boolean;
  limit?: number;
}

/** Reads entries of a facility, newest first. */
export async function queryAudit(q: AuditQuery): Promise<AuditEntry[]> {
  const db = await auditDb();
  const where = ['facility = ?'];
  const args: (string | number)[] = [q.facility];
  if (q.route) where.push('route = ?'), args.push(q.route);
  if (q.user) where.push("(',' || target_user || ',' LIKE '%,' || ? || ',%' OR on_behalf_of = ?)"), args.push(q.user, q.user);
  if (q.subject) where.push('subject = ?'), args.push(q.subject);
  if (q.since) where.push('at >= ?'), args.push(q.since);
  if (q.until) where.push('at < ?'), args.push(q.until);
  if (q.failed !== undefined) where.push(q.failed ? "result <> 'ok'" : "result = 'ok'");
  const r = await db.execute({
    sql: `SELECT * FROM audit WHERE ${where.join(' AND ')} ORDER BY at DESC, id DESC LIMIT ?`,
    args: [...args, Math.min(q.limit ?? 100, 1000)],
  });
  return r.rows.map((x) => ({
    at: String(x.at),
    requestId: String(x.request_id),
    facility: String(x.facility),
    route: String(x.route),
    subject: String(x.subject),
    subjectName: String(x.subject_name),
    role: String(x.role),
    onBehalfOf: (x.on_behalf_of as string | null) ?? undefined,
    target: (x.target as string | null) ?? undefined,
    targetUser: (x.target_user as string | null) ?? undefined,
    status: Number(x.status),
    result: String(x.result),
    durationMs: Number(x.duration_ms),
  }));
}
