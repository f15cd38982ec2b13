/**
 * Registry credentials for pulls: the facility's `images.registries` entry for a registry,
 * turned into the Engine's `X-Registry-Auth` header value. Credentials go only into that header,
 * never into a record, a log or an answer.
 *
 * @module
 */
import { registryAuthHeader } from '../engine.ts';
import { DomainError } from '../errors.ts';
import type { Facility } from '../facility.ts';
import { env } from '../runtime.ts';

/**
 * The `X-Registry-Auth` value (base64url JSON, as the Engine's `POST /images/create` takes it)
 * for a registry (`host[:port]`, `docker.io`) from the facility's config, or `undefined` when it
 * has no credentials for it.
 * @throws DomainError `internal_error` when the password is to come from an environment variable that is not set
 */
export function registryAuthFor(f: Facility, domain: string): string | undefined {
  const regs = f.config.images?.registries ?? {};
  const keys = domain === 'docker.io' ? ['docker.io', 'index.docker.io', 'registry-1.docker.io'] : [domain];
  const key = keys.find((k) => Object.hasOwn(regs, k));
  if (!key) return undefined;
  const c = regs[key];
  const serveraddress = domain === 'docker.io' ? 'https://index.docker.io/v1/' : domain;
  if (c.identityToken !== undefined) return registryAuthHeader({ identitytoken: c.identityToken, serveraddress });
  const password = c.password ?? (c.passwordEnv ? env(c.passwordEnv) : undefined);
  if (password === undefined) {
    throw new DomainError('internal_error', `The credentials configured for registry ${key} take their password from the environment variable ${c.passwordEnv}, which is not set`);
  }
  return registryAuthHeader({ username: c.username, password, serveraddress });
}
