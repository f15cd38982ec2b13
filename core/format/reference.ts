/**
 * The parts of `github.com/distribution/reference` the docker CLI's formatters use:
 * `ParseNormalizedNamed` (with its grammar and errors reduced to `undefined`),
 * `FamiliarName` and `FamiliarString` (`docker.io/library/busybox:latest` → `busybox:latest`).
 *
 * @module
 */

const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
const OFFICIAL_REPO_PREFIX = 'library/';
const NAME_TOTAL_LENGTH_MAX = 255;

const alphanumeric = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)';
const pathComponent = `${alphanumeric}(?:${separator}${alphanumeric})*`;
const domainNameComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const ipv6address = '\\[(?:[a-fA-F0-9:]+)\\]';
const domainName = `${domainNameComponent}(?:\\.${domainNameComponent})*`;
const host = `(?:${domainName}|${ipv6address})`;
const domainAndPort = `${host}(?::[0-9]+)?`;
const tag = '[\\w][\\w.-]{0,127}';
const digestPat = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}';
const namePat = `(?:${domainAndPort}/)?${pathComponent}(?:/${pathComponent})*`;
const REFERENCE = new RegExp(`^(${namePat})(?::(${tag}))?(?:@(${digestPat}))?$`);
const ANCHORED_IDENTIFIER = /^[a-f0-9]{64}$/;
const DIGEST_LENGTHS: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

/** A parsed, normalized image reference (`docker.io/library/busybox:latest`). */
export interface NamedReference {
  /** registry host[:port], `docker.io` for Docker Hub */
  domain: string;
  /** repository path, `library/busybox` for official images */
  path: string;
  /** tag, if any */
  tag?: string;
  /** digest (`sha256:...`), if any */
  digest?: string;
}

function splitDockerDomain(name: string): [string, string] {
  let domain: string;
  let remainder: string;
  const i = name.indexOf('/');
  if (
    i === -1 ||
    (!/[.:]/.test(name.slice(0, i)) && name.slice(0, i) !== 'localhost' && name.slice(0, i).toLowerCase() === name.slice(0, i))
  ) {
    domain = DEFAULT_DOMAIN;
    remainder = name;
  } else {
    domain = name.slice(0, i);
    remainder = name.slice(i + 1);
  }
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !remainder.includes('/')) remainder = OFFICIAL_REPO_PREFIX + remainder;
  return [domain, remainder];
}

/**
 * `reference.ParseNormalizedNamed(s)`: parses a user-supplied reference and normalizes it to
 * its fully-qualified form; returns `undefined` where Go returns an error (64-hex IDs,
 * upper-case repository names, bad grammar, over-long names, unknown digest algorithms).
 */
export function parseNormalizedNamed(s: string): NamedReference | undefined {
  if (ANCHORED_IDENTIFIER.test(s)) return undefined;
  const [domain, remainder] = splitDockerDomain(s);
  let remoteName = remainder;
  const tagSep = remainder.indexOf(':');
  if (tagSep > -1) remoteName = remainder.slice(0, tagSep);
  if (remoteName.toLowerCase() !== remoteName) return undefined;
  const m = REFERENCE.exec(`${domain}/${remainder}`);
  if (!m) return undefined;
  const name = m[1];
  if (name.length > NAME_TOTAL_LENGTH_MAX) return undefined;
  const ref: NamedReference = { domain: '', path: '' };
  const slash = name.indexOf('/');
  ref.domain = name.slice(0, slash);
  ref.path = name.slice(slash + 1);
  if (m[2]) ref.tag = m[2];
  if (m[3]) {
    const [alg, hex] = m[3].split(':');
    if (DIGEST_LENGTHS[alg] === undefined || DIGEST_LENGTHS[alg] !== hex.length || /[A-F]/.test(hex)) return undefined;
    ref.digest = m[3];
  }
  return ref;
}

/** `reference.FamiliarName`: the short name (`busybox`, `user/app`, `ghcr.io/x/y`). */
export function familiarName(ref: NamedReference): string {
  if (ref.domain === DEFAULT_DOMAIN) {
    let p = ref.path;
    if (p.startsWith(OFFICIAL_REPO_PREFIX) && !p.slice(OFFICIAL_REPO_PREFIX.length).includes('/')) {
      p = p.slice(OFFICIAL_REPO_PREFIX.length);
    }
    return p;
  }
  return `${ref.domain}/${ref.path}`;
}

/** `reference.FamiliarString`: familiar name plus `:tag` and `@digest` when present. */
export function familiarString(ref: NamedReference): string {
  return familiarName(ref) + (ref.tag !== undefined ? ':' + ref.tag : '') + (ref.digest !== undefined ? '@' + ref.digest : '');
}
