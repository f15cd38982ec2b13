/**
 * Apps in solo mode: containers named `IMAGE--USER` that carry our labels.
 *
 * Every action loads the app first (inspect), so it only ever touches containers this API
 * manages, and answers a state conflict with a 409 that says what to do instead.
 *
 * @module
 */
import { DomainError, hasCode } from './errors.ts';
import { EngineError, orNotFound } from './engine.ts';
import type { Facility } from './facility.ts';
import { appFilter, appLabels, appNameFor, appNotFound, appUsers, assertAppNameFree, LABELS, nameKey, splitAppName, type CreateParams, type NameHolder } from './naming.ts';
import type { ImageReference } from './reference.ts';
import { parseImageReference } from './reference.ts';
import { loadConfig } from './config.ts';
import { appEnvironment } from './gateway/url.ts';
import { containerHostConfig, exposedPorts, resolvePolicy, type Requested, type Resolved } from './policy.ts';
import { runAsFor } from './run-as.ts';
import { RESET_START_LABEL } from './reset-recovery.ts';
import { createMountSources, missingMountSource, mountSourceMissing } from './mount-sources.ts';
import { ensureUserNetwork, isNetworkMissing, releaseUserNetwork } from './user-network.ts';
import { inspectApp, inspectExact, listApps, listAppsAndResets, replaced, RESET_GRACE_MS, resetConflict, resetStartedAt, type ContainerInspect } from './app-lookup.ts';

export { inspectApp, listApps, type ContainerInspect } from './app-lookup.ts';

/** The answer of a successful action: `{ name, id, state }` (+ action-specific fields). */
export interface AppResult {
  name: string;
  id: string;
  state: string;
  [extra: string]: unknown;
}

async function currentState(f: Facility, id: string): Promise<string> {
  return (await orNotFound(f.engine.inspectContainer(id)))?.State.Status ?? 'deleted';
}

function conflict(name: string, state: string, what: string): DomainError {
  return new DomainError('state_conflict', `${name} is ${state}: ${what}`, { name, state });
}

/** The domain error for an Engine error during an action: the app vanished meanwhile (`app_not_found`), a concurrent change (`state_conflict`), else `engine_error`; the Engine's error is kept as `cause`. */
function actionError(e: unknown, name: string): unknown {
  if (e instanceof EngineError) {
    if (e.statusCode === 404) return new DomainError('app_not_found', `No app named '${name}' in this facility`, { name }, { cause: e });
    if (e.statusCode === 409) return new DomainError('state_conflict', `${name}: ${e.engineMessage}`, { name }, { cause: e });
    return new DomainError('engine_error', `${name}: ${e.reason}: ${e.engineMessage}`, { name }, { cause: e });
  }
  return e;
}

/**
 * Loads the app and runs `fn` on its container. When the container was replaced meanwhile (a
 * hard reset removed it between the look and the action: the Engine answers 404 or "marked for
 * removal"), the action is run again on the replacement, at most four times more, then 409
 * `state_conflict` (Retry-After). With `stateAfter` (an action whose success fixes the state:
 * pause, unpause), the answer names that state without inspecting the container again.
 */
async function act(f: Facility, name: string, fn: (c: ContainerInspect) => Promise<void>, stateAfter?: string): Promise<AppResult> {
  for (let attempt = 0; ; attempt++) {
    const c = await inspectApp(f, name);
    try {
      await fn(c);
    } catch (e) {
      if (e instanceof EngineError && e.statusCode === 304) {
        // "already started" / "already stopped": the CLI treats this as success, so do we.
      } else {
        const err = await concurrentChange(f, c, name, actionError(e, name));
        if (await replaced(f, name, c.Id)) {
          if (attempt < 4) continue;
          throw resetConflict(name);
        }
        throw err;
      }
    }
    if (stateAfter !== undefined) return { name, id: c.Id, state: stateAfter };
    const state = await currentState(f, c.Id);
    if (state === 'deleted' && (await replaced(f, name, c.Id))) return { name, id: c.Id, state: (await inspectExact(f, name))?.State.Status ?? state };
    return { name, id: c.Id, state };
  }
}

/**
 * An Engine refusal (5xx or undocumented answer) often means another call changed the app
 * meanwhile (a delete marked it for removal; a stop ended it before a pause). If the container
 * is gone or in another state now, answer that (404, or 409 naming the state) instead of 502.
 */
async function concurrentChange(f: Facility, before: ContainerInspect, name: string, err: unknown): Promise<unknown> {
  if (!hasCode(err, 'engine_error')) return err;
  const now = await currentState(f, before.Id).catch(() => undefined);
  if (now === 'deleted') return appNotFound(name);
  if (now !== undefined && (now !== before.State.Status || now === 'removing')) {
    return new DomainError('state_conflict', `${name} changed while acting on it (now ${now}); check its state and retry`, { name, state: now });
  }
  return err;
}

/** Starts an app (`docker start`). 409 if paused (unpause it instead). */
export function startApp(f: Facility, name: string): Promise<AppResult> {
  return act(f, name, async (c) => {
    if (c.State.Paused) throw conflict(name, 'paused', 'unpause it (unpause-app) instead of starting it');
    try {
      await f.engine.startContainer(c.Id);
    } catch (e) {
      if (!isNetworkMissing(e)) throw e;
      // the user's network went with a concurrent last delete (or a sweep): make it again, start again
      await ensureUserNetwork(f, splitAppName(name).user, 'solo');
      await f.engine.startContainer(c.Id);
    }
  });
}

/** Stops an app: SIGTERM, then SIGKILL after `timeout` seconds (default 10, as `docker stop`). */
export function stopApp(f: Facility, name: string, timeout = 10): Promise<AppResult> {
  return act(f, name, (c) => f.engine.stopContainer(c.Id, timeout));
}

/** Restarts an app (`docker restart`): stop with `timeout` grace, then start. Works on a paused app. */
export function restartApp(f: Facility, name: string, timeout = 10): Promise<AppResult> {
  return act(f, name, (c) => f.engine.restartContainer(c.Id, timeout));
}

/** Pauses a running app (`docker pause`): two Engine calls, the inspect and the pause (a pause that succeeded left it paused). 409 when it is not running. */
export function pauseApp(f: Facility, name: string): Promise<AppResult> {
  return act(
    f,
    name,
    async (c) => {
      if (c.State.Paused) throw conflict(name, 'paused', 'it is already paused; unpause-app resumes it');
      if (!c.State.Running) throw conflict(name, c.State.Status, 'only a running app can be paused; start it first (start-app)');
      await f.engine.pauseContainer(c.Id);
    },
    'paused',
  );
}

/** Unpauses a paused app (`docker unpause`): the inspect and the unpause, as pause. 409 when it is not paused. */
export function unpauseApp(f: Facility, name: string): Promise<AppResult> {
  return act(
    f,
    name,
    async (c) => {
      if (!c.State.Paused) {
        throw conflict(name, c.State.Status, c.State.Running ? 'it is not paused, nothing to unpause' : 'it is not paused; start it with start-app');
      }
      await f.engine.unpauseContainer(c.Id);
    },
    'running',
  );
}

/** Kills an app with SIGKILL (`docker kill`). 409 when it is not running. */
export function killApp(f: Facility, name: string): Promise<AppResult> {
  return act(f, name, async (c) => {
    if (!c.State.Running) throw conflict(name, c.State.Status, 'it is not running, nothing to kill (delete-app removes it)');
    await f.engine.killContainer(c.Id, 'SIGKILL');
  });
}

/** Deletes an app: its container (forced, even if running or paused) and anonymous volumes. */
export async function deleteApp(f: Facility, name: string): Promise<AppResult> {
  for (let attempt = 0; ; attempt++) {
    const c = await inspectApp(f, name);
    try {
      await f.engine.removeContainer(c.Id, { force: true, v: true });
    } catch (e) {
      // a hard reset replaced the container meanwhile: delete the replacement
      if (await replaced(f, name, c.Id)) {
        if (attempt < 4) continue;
        throw resetConflict(name);
      }
      // 404: a concurrent delete won; 409: one is in progress. Either way, not this call's delete.
      throw actionError(e, name);
    }
    const { user } = splitAppName(name);
    await releaseUserNetwork(f, user, 'solo', () => userHasContainers(f, user));
    return { name, id: c.Id, state: 'deleted' };
  }
}

/** Whether any container of ours (apps and hard-reset replacements) belongs to `user`. */
async function userHasContainers(f: Facility, user: string): Promise<boolean> {
  return (await f.engine.listContainers({ all: true, filters: appFilter(f.id, [`${LABELS.user}=${user}`]) })).length > 0;
}

/**
 * Creates container `containerName` on the user's own network (core/user-network.ts), making
 * the network first; a network removed meanwhile by the user's last delete is made again.
 */
async function createOnUserNetwork(f: Facility, containerName: string, user: string, body: (network: string) => Promise<Record<string, unknown>>): Promise<{ Id: string }> {
  for (let attempt = 0; ; attempt++) {
    const network = await ensureUserNetwork(f, user, 'solo');
    try {
      return await f.engine.createContainer(containerName, await body(network));
    } catch (e) {
      if (attempt < 3 && isNetworkMissing(e)) continue;
      throw e;
    }
  }
}

/**
 * The Engine create body (`POST /containers/create`) for an app under the facility's create
 * policy (core/policy.ts).
 * @throws DomainError 400 when the requested limits exceed the policy's maximum
 */
function containerBody(
  f: Facility,
  name: string,
  resolved: Resolved,
  image: string,
  ref: ImageReference,
  imageId: string,
  params: CreateParams,
  network: string,
  env: string[],
): Record<string, unknown> {
  const { user } = splitAppName(name);
  return {
    Image: image,
    Env: env, // SRC_BASE_URL: where the gateway serves it (appEnvironment)
    ...(resolved.user ? { User: resolved.user } : {}),
    Labels: appLabels(f.id, name, user, ref, imageId, params),
    ExposedPorts: Object.fromEntries(params.ports.map((p) => [p, {}])),
    HostConfig: containerHostConfig(resolved, params.ports, params.publishHost, network),
  };
}

/**
 * Creates (does not start) the app `IMAGE--USER` from an image present on the Engine
 * (`POST /containers/create`), publishing the image's exposed ports to engine-chosen host ports
 * on the facility's `publishHost`, under the facility's create policy with the caller's
 * `requested` limits (bytes, CPUs, processes).
 * @returns `{ name, id, state: 'created', image, imageId, ports }`
 * @throws DomainError 400 name too long; 404 image not on the Engine; 409 the app (or a foreign
 *   container of that name) exists, naming the existing app's image reference
 */
export async function createApp(f: Facility, ref: ImageReference, user: string, requested: Requested = {}): Promise<AppResult> {
  const name = appNameFor(ref, user);
  resolvePolicy(f.config.policy, user, requested); // 400 before any lookup or Engine call
  const resolved = resolvePolicy(f.config.policy, user, requested, await runAsFor(f, user, ref)); // 403 no_identity
  await assertNameFree(f, name);
  const image = await orNotFound(f.engine.inspectImage(ref.given));
  if (!image) throw new DomainError('image_not_found', `Image '${ref.given}' is not present on the Engine`, { image: ref.given });
  const params: CreateParams = { publishHost: f.config.publishHost, ports: exposedPorts(image), requested };
  await createMountSources(f, resolved); // 409 mount_source_missing when one cannot be made
  const env = await appEnvironment(loadConfig().gateway, f.id, name);
  for (let attempt = 0; ; attempt++) {
    const id = await createContainerOf(f, name, ref, user, async (network) => containerBody(f, name, resolved, ref.given, ref, image.Id, params, network, env));
    if (!(await hasCaseTwin(f, name, id))) return { name, id, state: 'created', image: ref.given, imageId: image.Id, ports: params.ports };
    // a create of a case twin ran at the same time: step back, then look again (and answer the twin's 409 if it stayed)
    await f.engine.removeContainer(id, { force: true, v: true }).catch(() => undefined);
    if (attempt >= 3) throw new DomainError('state_conflict', `${name}: another create of the same name in another case ran at the same time; retry`, { name, retryAfter: 1 });
    await new Promise((r) => setTimeout(r, (attempt + 1) * (20 + Math.random() * 80)));
    await assertNameFree(f, name);
  }
}

/** `POST /containers/create` of an app, its refusals as domain errors. @returns the container ID */
async function createContainerOf(f: Facility, name: string, ref: ImageReference, user: string, body: (network: string) => Promise<Record<string, unknown>>): Promise<string> {
  try {
    return (await createOnUserNetwork(f, name, user, body)).Id;
  } catch (e) {
    const missing = missingMountSource(e);
    if (missing) throw mountSourceMissing(f, missing);
    if (e instanceof EngineError && e.statusCode === 409) {
      // the Engine reserves the name before the container shows: look until it does (then 409 naming it)
      for (let i = 0; i < 20; i++) {
        await assertNameFree(f, name);
        await new Promise((r) => setTimeout(r, 100));
      }
      // the holder never showed, or was removed between the Engine's refusal and our look: nothing to name
      throw new DomainError('state_conflict', `${name}: a container of that name was being created or removed; retry`, { name, retryAfter: 1 }, { cause: e });
    }
    if (e instanceof EngineError && e.statusCode === 404) throw new DomainError('image_not_found', `Image '${ref.given}' is not present on the Engine`, { image: ref.given });
    if (e instanceof EngineError) {
      const parameter = refusedParameter(e.engineMessage);
      if (parameter) throw new DomainError('invalid_parameter', `Engine refused the container: ${e.engineMessage}`, { parameter, rule: e.engineMessage });
      // not the caller's input: the facility's create policy does not fit this host
      throw new DomainError(
        'engine_error',
        `The Engine refused to create ${name} (${e.engineMessage}); an admin should check facility '${f.id}''s create policy (mount sources must exist on the host)`,
        { name },
      );
    }
    throw e;
  }
}

/** The create-app parameter an Engine refusal is about (e.g. "Range of CPUs is from 0.01 to 2.00"), if any. */
function refusedParameter(engineMessage: string): string | undefined {
  if (/\bcpus?\b|nanocpus/i.test(engineMessage)) return 'cpus';
  if (/\bmemory\b/i.test(engineMessage)) return 'memory';
  if (/\bpids/i.test(engineMessage)) return 'pids';
  return undefined;
}

/** 409 `app_exists` when a container holds `name` or an app of the facility holds it in another case (core/naming.ts). */
async function assertNameFree(f: Facility, name: string): Promise<void> {
  const [c, holders]: [ContainerInspect | null, NameHolder[]] = await Promise.all([orNotFound(f.engine.inspectContainer(name)), appHolders(f)]);
  if (c && c.Name === `/${name}`) holders.unshift({ name, labels: c.Config?.Labels ?? {} });
  assertAppNameFree(f.id, name, holders, { kind: 'container', where: 'on the Engine' });
}

/**
 * Whether another app of the facility holds `name` in another case, looked at just after our
 * container `id` was created. Two creates of case twins at the same time both pass
 * {@link assertNameFree} (the Engine's container names are case-sensitive); each then looks
 * again and steps back when it sees the other. The one that looks first cannot see the other
 * only if the other's container did not exist yet, and then the other sees it: never do both
 * stay. Both may step back; they retry after a random pause, and the retry's
 * {@link assertNameFree} answers the 409 naming the one that stayed.
 */
async function hasCaseTwin(f: Facility, name: string, id: string): Promise<boolean> {
  const key = nameKey(name);
  return (await appHolders(f)).some((a) => a.id !== id && a.name !== name && nameKey(a.name) === key);
}

/** The names the facility's apps hold: every app, and every app a hard reset is renaming (its young `NAME.reset-…`). */
async function appHolders(f: Facility): Promise<(NameHolder & { id: string })[]> {
  const { apps, resetting, all } = await listAppsAndResets(f);
  const holders = apps.map((a) => ({ name: a.Labels[LABELS.app] as string, labels: a.Labels, id: a.Id as string }));
  for (const c of all) if (resetting.has(c.Labels[LABELS.app]) && !holders.some((h) => h.name === c.Labels[LABELS.app])) holders.push({ name: c.Labels[LABELS.app], labels: c.Labels, id: c.Id });
  return holders;
}

/**
 * Hard reset: recreates the app from its original image and create parameters, same name.
 * Order: create the replacement under a temporary name, remove the old container (and its
 * anonymous volumes), rename the replacement; a failure before the removal leaves the app as it
 * was and no temporary container behind. A running or paused app is started again.
 * @returns `{ name, id, state, previousId, image: { source: 'original-image'|'reference', id, reference } }`
 * `opts.assertImage` vets the app's image reference first (the route passes the approval check).
 * @throws DomainError 404 when neither the original image nor the reference is on the Engine (app unchanged)
 */
export async function hardResetApp(f: Facility, name: string, opts: { assertImage?: (ref: ImageReference) => Promise<void> } = {}): Promise<AppResult> {
  const old = await inspectApp(f, name);
  const labels = old.Config.Labels ?? {};
  const given = labels[LABELS.imageReference] ?? old.Config.Image;
  const ref = parseImageReference(given);
  await opts.assertImage?.(ref); // e.g. 403 when the image was denied since the app was created
  // the facility's current rules apply: its publishHost (and, below, its create policy)
  const params: CreateParams = { ...safeParams(labels[LABELS.createParams], f), publishHost: f.config.publishHost };
  await removeStaleResets(f, name, old.Id);

  const originalId = labels[LABELS.imageId];
  const original = originalId ? await orNotFound(f.engine.inspectImage(originalId)) : null;
  let source: 'original-image' | 'reference';
  let imageForCreate: string;
  let imageId: string;
  const current = await orNotFound(f.engine.inspectImage(given));
  if (original) {
    source = 'original-image';
    imageId = original.Id;
    imageForCreate = current?.Id === original.Id ? given : original.Id;
  } else {
    if (!current) {
      throw new DomainError('image_not_found', `Cannot reset ${name}: neither its original image ${originalId ?? '(unknown)'} nor '${given}' is on the Engine; the app is unchanged`, {
        name,
        image: given,
      });
    }
    source = 'reference';
    imageId = current.Id;
    imageForCreate = given;
  }

  const tempName = `${name}.reset-${Date.now().toString(36)}-${crypto.randomUUID().slice(0, 4)}`;
  const { user } = splitAppName(name);
  const resolved = resolvePolicy(f.config.policy, user, params.requested, await runAsFor(f, user, ref));
  await createMountSources(f, resolved);
  let replacement: { Id: string };
  try {
    const env = await appEnvironment(loadConfig().gateway, f.id, name);
    replacement = await createOnUserNetwork(f, tempName, user, async (network) => {
      const body = containerBody(f, name, resolved, imageForCreate, ref, imageId, params, network, env);
      // a crash before the start below is finished by core/reset-recovery.ts, which reads this
      if (old.State.Running || old.State.Paused) (body.Labels as Record<string, string>)[RESET_START_LABEL] = '1';
      return body;
    });
  } catch (e) {
    const missing = missingMountSource(e);
    throw missing ? mountSourceMissing(f, missing) : actionError(e, name);
  }
  try {
    await f.engine.removeContainer(old.Id, { force: true, v: true });
  } catch (e) {
    await f.engine.removeContainer(replacement.Id, { force: true, v: true }).catch(() => undefined);
    if (!(e instanceof EngineError && e.statusCode === 404)) throw actionError(e, name);
    if (await replaced(f, name, old.Id)) throw new DomainError('state_conflict', `${name} was reset by another call at the same time; that reset won`, { name }, { cause: e });
    throw appNotFound(name); // removed concurrently by someone else
  }
  try {
    await renameWithRetry(f, replacement.Id, name);
  } catch (e) {
    // A concurrent reset of the same app removed the old container too and won the name: ours is
    // surplus. Remove it (never leave an unlisted NAME.reset-… behind) and say what happened.
    const holder = await orNotFound(f.engine.inspectContainer(name)).catch(() => undefined);
    if (holder && holder.Id !== replacement.Id) {
      await f.engine.removeContainer(replacement.Id, { force: true, v: true }).catch(() => undefined);
      throw new DomainError('state_conflict', `${name} was reset by another call at the same time; that reset won`, { name }, { cause: e });
    }
    throw e;
  }
  if (old.State.Running || old.State.Paused) {
    try {
      await f.engine.startContainer(replacement.Id);
    } catch (e) {
      if (!(e instanceof EngineError && e.statusCode === 304)) throw actionError(e, name);
    }
  }
  return {
    name,
    id: replacement.Id,
    state: await currentState(f, replacement.Id),
    previousId: old.Id,
    image: { source, id: imageId, reference: given },
  };
}

function safeParams(raw: string | undefined, f: Facility): CreateParams {
  try {
    const p = JSON.parse(raw ?? '');
    if (p && typeof p.publishHost === 'string' && Array.isArray(p.ports)) return p as CreateParams;
  } catch {
    /* fall through */
  }
  return { publishHost: f.config.publishHost, ports: [] };
}

async function renameWithRetry(f: Facility, id: string, name: string): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      return await f.engine.renameContainer(id, name);
    } catch (e) {
      if (i >= 4) throw actionError(e, name);
      await new Promise((r) => setTimeout(r, 100 * (i + 1)));
    }
  }
}

/**
 * Removes replacement containers a crashed hard reset of `name` left behind, but not those of
 * a reset of the same app still running in another request (they are younger than
 * {@link RESET_GRACE_MS}): removing one would make that reset lose the app.
 */
async function removeStaleResets(f: Facility, name: string, keepId: string): Promise<void> {
  const list = await f.engine.listContainers({ all: true, filters: appFilter(f.id, [`${LABELS.app}=${name}`]) });
  const stale = list.filter((c) => {
    if (c.Id === keepId || c.Names?.[0] === `/${name}`) return false;
    const started = resetStartedAt(c.Names?.[0]);
    return started === undefined || Date.now() - started > RESET_GRACE_MS;
  });
  await Promise.all(stale.map((c) => f.engine.removeContainer(c.Id, { force: true, v: true }).catch(() => undefined)));
}

/** Distinct users that have apps in the facility, sorted. */
export async function listUsers(f: Facility): Promise<string[]> {
  return appUsers((await listApps(f)).map((c) => c.Labels));
}
