/**
 * App names and labels: a contract that cannot change once apps exist.
 *
 * An app is named `IMAGE--USER`: IMAGE is the last path component of the image's repository
 * (`jupyter-lab` for `127.0.0.1:5000/team/jupyter-lab:1.2`), USER follows the last `--`.
 * Every label we write starts with {@link LABEL_PREFIX}; {@link LABELS.schema} carries the
 * label-schema version and marks a container (or service) as managed by this API.
 *
 * @module
 */
import { APP_NAME_MAX } from './schemas.ts';
import { DomainError } from './errors.ts';
import { failed, ok, type Batch } from './batch.ts';
import type { ImageReference } from './reference.ts';

/** The one prefix of every label this API writes. */
export const LABEL_PREFIX = 'io.src-container-api.';
/** Version of the label schema below. */
export const LABEL_SCHEMA_VERSION = '1';

/** Label keys. */
export const LABELS = {
  /** Label-schema version; its presence marks a managed app. */
  schema: `${LABEL_PREFIX}schema`,
  facility: `${LABEL_PREFIX}facility`,
  app: `${LABEL_PREFIX}app`,
  user: `${LABEL_PREFIX}user`,
  /** The image reference exactly as given to create-app. */
  imageReference: `${LABEL_PREFIX}image.reference`,
  /** Its normalised form (`docker.io/library/busybox:latest`). */
  imageNormalized: `${LABEL_PREFIX}image.normalized`,
  /** The image ID the app was created from (the "original image" for hard reset). */
  imageId: `${LABEL_PREFIX}image.id`,
  /** JSON of the create parameters a hard reset needs ({@link CreateParams}). */
  createParams: `${LABEL_PREFIX}create`,
} as const;

/** The create parameters stored on an app, enough to recreate it. */
export interface CreateParams {
  /** Host address ports were published on. */
  publishHost: string;
  /** Container ports published (`80/tcp`). */
  ports: string[];
  /** Limits the caller asked for (bytes, CPUs, processes); the facility policy is re-applied on reset. */
  requested?: { memory?: number; cpus?: number; pids?: number };
}

/**
 * The labels of an app, the same for a solo-mode container and a swarm service (and its tasks'
 * containers): the label schema version, facility, app name, user, the image reference as given
 * and normalised, the image ID, and the create parameters.
 */
export function appLabels(facility: string, name: string, user: string, ref: ImageReference, imageId: string, params: CreateParams): Record<string, string> {
  return {
    [LABELS.schema]: LABEL_SCHEMA_VERSION,
    [LABELS.facility]: facility,
    [LABELS.app]: name,
    [LABELS.user]: user,
    [LABELS.imageReference]: ref.given,
    [LABELS.imageNormalized]: ref.normalized,
    [LABELS.imageId]: imageId,
    [LABELS.createParams]: JSON.stringify(params),
  };
}

/**
 * The app name for an image reference and user.
 * @throws DomainError 400 when the name would be longer than 63 characters
 */
export function appNameFor(ref: ImageReference, user: string): string {
  const name = `${ref.name}--${user}`;
  if (name.length > APP_NAME_MAX) {
    throw new DomainError('invalid_parameter', `app name '${name}' would be ${name.length} characters; at most ${APP_NAME_MAX} are allowed (swarm's service-name limit)`, {
      parameter: 'image',
      rule: `IMAGE--USER must be at most ${APP_NAME_MAX} characters`,
    });
  }
  return name;
}

/** Splits an app name at its last `--`: `{ image, user }`. */
export function splitAppName(name: string): { image: string; user: string } {
  const i = name.lastIndexOf('--');
  return { image: name.slice(0, i), user: name.slice(i + 2) };
}

/** Engine list filter selecting the apps of one facility. */
export function appFilter(facility: string, extra: string[] = []): Record<string, string[]> {
  return { label: [`${LABELS.schema}`, `${LABELS.facility}=${facility}`, ...extra] };
}

/** Whether an Engine object's labels mark it as an app of `facility`. */
export function isAppOf(labels: Record<string, string> | null | undefined, facility: string): boolean {
  return !!labels && LABELS.schema in labels && labels[LABELS.facility] === facility;
}

/** The 404 for an app (container or service) that is not in the facility. */
export function appNotFound(name: string): DomainError {
  return new DomainError('app_not_found', `No app named '${name}' in this facility`, { name });
}

/**
 * The apps named in `names`, in that order, from a facility's list of apps, each as an
 * outcome: found, or `app_not_found` keyed by its name. One name answers as one object.
 * @example pickApps(list, ['a--x', 'b--y'], (c) => c.Labels[LABELS.app])
 */
export function pickApps<T>(apps: T[], names: string[], nameOf: (app: T) => string): Batch<T> {
  const byName = new Map(apps.map((a) => [nameOf(a), a]));
  return {
    single: names.length === 1,
    outcomes: names.map((n) => {
      const a = byName.get(n);
      return a ? ok(a) : failed<T>(appNotFound(n), { name: n });
    }),
  };
}

/** The distinct users of a list of apps' labels, sorted. */
export function appUsers(labels: (Record<string, string> | null | undefined)[]): string[] {
  return [...new Set(labels.map((l) => l?.[LABELS.user] as string))].sort();
}

/**
 * The key under which app names are unique: names keep the case they were created with, and
 * two names that differ only in case are the same app name (`img--Alice` blocks `img--alice`),
 * in both modes. Swarm's own service names are unique this way (swarmkit's name index ignores
 * case), and the gateway's DNS labels and directory lookups need it.
 */
export function nameKey(name: string): string {
  return name.toLowerCase();
}

/** An Engine object (container or service) that holds an app name, or its case twin. */
export interface NameHolder {
  /** Its exact name. */
  name: string;
  labels: Record<string, string>;
}

/**
 * Refuses a create when an Engine object holds the app's name, exactly or in another case:
 * 409 `app_exists` naming what exists (`name`: the existing app's exact name, `requested`: the
 * name asked for, `existingImage`: its image reference), or saying that a foreign object holds
 * the name. The one name rule of both modes (solo: core/apps.ts `createApp`, swarm:
 * core/services.ts `createServiceApp`).
 * @param holders the objects that hold `name` in the Engine's sense: the container of exactly
 *   that name and the facility's apps (solo: container names are case-sensitive), or the
 *   services of that name in any case (swarm); others are ignored
 * @param what e.g. `{ kind: 'container', where: 'on the Engine' }`, for the foreign-object message
 */
export function assertAppNameFree(facility: string, name: string, holders: NameHolder[], what: { kind: 'container' | 'service'; where: string }): void {
  const key = nameKey(name);
  const same = holders.filter((h) => nameKey(h.name) === key);
  // an app of this facility first (the 409 names it), the exact name before a case twin
  const h = same.find((x) => isAppOf(x.labels, facility) && x.name === name) ?? same.find((x) => isAppOf(x.labels, facility)) ?? same[0];
  if (!h) return;
  if (isAppOf(h.labels, facility)) {
    const twin = h.name === name ? '' : ` (names are unique regardless of case: '${name}' is taken)`;
    throw new DomainError('app_exists', `App '${h.name}' already exists (created from '${h.labels[LABELS.imageReference]}'); one app per image name and user${twin}`, {
      name: h.name,
      requested: name,
      existingImage: h.labels[LABELS.imageReference],
    });
  }
  throw new DomainError('app_exists', `A ${what.kind} named '${h.name}' exists ${what.where} but is not an app of facility '${facility}'`, { name: h.name, requested: name });
}
