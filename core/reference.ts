/**
 * Image references: the grammar of the distribution project's `reference` package
 * (github.com/distribution/reference, what the Engine and the docker CLI use), implemented
 * here and tested against that project's own test vectors (test/core/reference.test.ts):
 * implicit `docker.io` and `library/`, registry hosts with ports (IPv4, names, `[IPv6]`),
 * namespaces, tags and digests. Approvals and lookups compare the normalised form.
 *
 * (`@swimlane/docker-reference`, used before, ports an older grammar: no IPv6 hosts, no
 * upper-case registry hosts, and it limits the whole name instead of the path to 255.)
 *
 * @example
 * parseImageReference('127.0.0.1:5000/team/jupyter-lab:1.2')
 * // => { given, domain: '127.0.0.1:5000', path: 'team/jupyter-lab', tag: '1.2',
 * //      name: 'jupyter-lab', normalized: '127.0.0.1:5000/team/jupyter-lab:1.2', ... }
 * imagePatternMatches('127.0.0.1:5000/team/*', parseImageReference('127.0.0.1:5000/team/x:1')) // true
 *
 * @module
 */

// --- Grammar (reference.go / regexp.go) --------------------------------------------------------
//   reference        := name [ ":" tag ] [ "@" digest ]
//   name             := [domain '/'] remote-name
//   domain           := host [':' port-number]
//   host             := domain-name | IPv4address | \[ IPv6address \]
//   path-component   := alpha-numeric [separator alpha-numeric]*
//   separator        := /[_.]|__|[-]+/
//   tag              := /[\w][\w.-]{0,127}/
//   digest           := algorithm ":" hex  (hex at least 32 characters)
const alphanumeric = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)';
const domainNameComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const ipv6address = '\\[(?:[a-fA-F0-9:]+)\\]';
const domainName = `${domainNameComponent}(?:\\.${domainNameComponent})*`;
const domainAndPort = `(?:${domainName}|${ipv6address})(?::[0-9]+)?`;
const tagPat = '[\\w][\\w.-]{0,127}';
const digestPat = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}';
const pathComponent = `${alphanumeric}(?:${separator}${alphanumeric})*`;
const remoteName = `${pathComponent}(?:/${pathComponent})*`;
const namePat = `(?:${domainAndPort}/)?${remoteName}`;

const REFERENCE = new RegExp(`^(${namePat})(?::(${tagPat}))?(?:@(${digestPat}))?$`);
const ANCHORED_NAME = new RegExp(`^(?:(${domainAndPort})/)?(${remoteName})$`);
const ANCHORED_IDENTIFIER = /^[a-f0-9]{64}$/;
const ANCHORED_DIGEST = new RegExp(`^${digestPat}$`);

/** Longest repository name (domain included). */
export const NAME_TOTAL_LENGTH_MAX = 255;
const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
const OFFICIAL_REPO_PREFIX = 'library/';
/** Digest algorithms the Engine knows (go-digest) and their hex lengths. */
const DIGEST_HEX_LENGTH: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

/** The grammar's errors, with the reference implementation's messages. */
export const REFERENCE_ERRORS = {
  invalidFormat: 'invalid reference format',
  nameContainsUppercase: 'repository name must be lowercase',
  nameEmpty: 'repository name must have at least one component',
  nameTooLong: `repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters`,
  digestInvalidFormat: 'invalid checksum digest format',
  digestInvalidLength: 'invalid checksum digest length',
  digestUnsupported: 'unsupported digest algorithm',
} as const;

/** A reference that does not follow the grammar; `message` is the reference implementation's. */
export class ReferenceSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReferenceSyntaxError';
  }
}

/** The parts of a reference (`Parse`): `domain` is `''` when the name has none. */
export interface ReferenceParts {
  domain: string;
  path: string;
  tag?: string;
  digest?: string;
}

/** What is wrong with digest `d` (go-digest `Parse`: algorithm known, hex of its length, lower case), or undefined when it is valid. */
function digestProblem(d: string): string | undefined {
  const i = d.indexOf(':');
  if (i <= 0 || i + 1 === d.length) return REFERENCE_ERRORS.digestInvalidFormat;
  const alg = d.slice(0, i);
  const hex = d.slice(i + 1);
  const want = Object.hasOwn(DIGEST_HEX_LENGTH, alg) ? DIGEST_HEX_LENGTH[alg] : undefined;
  if (want === undefined) return ANCHORED_DIGEST.test(d) ? REFERENCE_ERRORS.digestUnsupported : REFERENCE_ERRORS.digestInvalidFormat;
  if (hex.length !== want) return REFERENCE_ERRORS.digestInvalidLength;
  if (!/^[a-f0-9]+$/.test(hex)) return REFERENCE_ERRORS.digestInvalidFormat;
  return undefined;
}

/** go-digest `Parse`. @throws ReferenceSyntaxError with its message */
function validateDigest(d: string): void {
  const problem = digestProblem(d);
  if (problem) throw new ReferenceSyntaxError(problem);
}

/** Whether `s` is a valid digest of a known algorithm (go-digest `Parse` succeeds), without throwing. */
function isDigest(s: string): boolean {
  return digestProblem(s) === undefined;
}

/**
 * `reference.Parse`: a reference exactly as written, nothing added (`busybox` has no domain).
 * Digest-only references (`@sha256:…`) are refused, as there is no name.
 * @throws ReferenceSyntaxError with the reference implementation's message
 */
export function parseReference(s: string): ReferenceParts {
  if (s === '') throw new ReferenceSyntaxError(REFERENCE_ERRORS.nameEmpty);
  const m = s.match(REFERENCE);
  if (!m) {
    const lower = s.toLowerCase();
    if (lower !== s && REFERENCE.test(lower)) throw new ReferenceSyntaxError(REFERENCE_ERRORS.nameContainsUppercase);
    throw new ReferenceSyntaxError(REFERENCE_ERRORS.invalidFormat);
  }
  // The whole name, domain included, as the Engine's and the CLI's versions of the package check
  // (and its test vectors expect); the newest version checks only the path.
  if (m[1].length > NAME_TOTAL_LENGTH_MAX) throw new ReferenceSyntaxError(REFERENCE_ERRORS.nameTooLong);
  const nm = m[1].match(ANCHORED_NAME);
  const parts: ReferenceParts = nm ? { domain: nm[1] ?? '', path: nm[2] } : { domain: '', path: m[1] };
  if (m[2] !== undefined) parts.tag = m[2];
  if (m[3] !== undefined) {
    validateDigest(m[3]);
    parts.digest = m[3];
  }
  return parts;
}

/** `splitDockerDomain`: the domain (default `docker.io`) and the remote name, `library/` added on Docker Hub. */
function splitDockerDomain(name: string): [string, string] {
  const slash = name.indexOf('/');
  if (slash === -1) return [DEFAULT_DOMAIN, OFFICIAL_REPO_PREFIX + name];
  const maybeDomain = name.slice(0, slash);
  const rest = name.slice(slash + 1);
  let domain: string;
  let remote: string;
  if (maybeDomain === 'localhost' || /[.:]/.test(maybeDomain) || maybeDomain.toLowerCase() !== maybeDomain) {
    [domain, remote] = [maybeDomain === LEGACY_DEFAULT_DOMAIN ? DEFAULT_DOMAIN : maybeDomain, rest];
  } else {
    [domain, remote] = [DEFAULT_DOMAIN, name];
  }
  if (domain === DEFAULT_DOMAIN && !remote.includes('/')) remote = OFFICIAL_REPO_PREFIX + remote;
  return [domain, remote];
}

/**
 * `reference.ParseNormalizedNamed`: a reference as users write it (`busybox`, `alice/app:1`),
 * normalised to its fully-qualified parts (`docker.io`, `library/busybox`). No tag is added.
 * @throws ReferenceSyntaxError with the reference implementation's message
 */
export function parseNormalizedNamed(s: string): ReferenceParts & { domain: string } {
  if (ANCHORED_IDENTIFIER.test(s)) {
    throw new ReferenceSyntaxError(`invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`);
  }
  const [domain, remainder] = splitDockerDomain(s);
  const tagSep = remainder.indexOf(':');
  const remote = tagSep > -1 ? remainder.slice(0, tagSep) : remainder;
  if (remote.toLowerCase() !== remote) throw new ReferenceSyntaxError(`invalid reference format: repository name (${remote}) must be lowercase`);
  return parseReference(`${domain}/${remainder}`);
}

/** `reference.FamiliarName`: `docker.io/library/busybox` → `busybox`, `docker.io/a/b` → `a/b`. */
export function familiarName(parts: ReferenceParts): string {
  if (parts.domain !== DEFAULT_DOMAIN) return parts.domain ? `${parts.domain}/${parts.path}` : parts.path;
  const rest = parts.path.startsWith(OFFICIAL_REPO_PREFIX) ? parts.path.slice(OFFICIAL_REPO_PREFIX.length) : undefined;
  return rest !== undefined && !rest.includes('/') ? rest : parts.path;
}

/** `reference.FamiliarString`: the familiar name with `:tag` and `@digest`. */
export function familiarString(parts: ReferenceParts): string {
  return familiarName(parts) + suffix(parts);
}

/** The full string of parts (`reference.String()`): `domain/path[:tag][@digest]`. */
export function referenceString(parts: ReferenceParts): string {
  return (parts.domain ? `${parts.domain}/${parts.path}` : parts.path) + suffix(parts);
}

function suffix(parts: ReferenceParts): string {
  return `${parts.tag !== undefined ? `:${parts.tag}` : ''}${parts.digest !== undefined ? `@${parts.digest}` : ''}`;
}

/** A parsed image reference. */
export interface ImageReference {
  /** The reference exactly as the client gave it. */
  given: string;
  /** Registry host (with port), `docker.io` when implicit. */
  domain: string;
  /** Repository path inside the registry, `library/` added for official images. */
  path: string;
  /** Tag, `latest` when neither tag nor digest was given (kept when given next to a digest). */
  tag?: string;
  /** Digest, e.g. `sha256:…`. */
  digest?: string;
  /** The repository's last path component: the IMAGE part of an app name. */
  name: string;
  /** `domain/path` */
  repository: string;
  /** Fully qualified reference (`docker.io/library/busybox:latest`; digest only when one was given): what approvals compare. */
  normalized: string;
  /** The short form the docker CLI shows (`busybox:latest`, `127.0.0.1:5000/x:1`). */
  familiar: string;
}

/**
 * `reference.ParseDockerRef`: normalises like `docker pull` does (`ParseNormalizedNamed`, then
 * `latest` added when there is neither tag nor digest, and a digest wins over a tag:
 * `x:1@sha256:…` names the same content as `x@sha256:…`).
 * @throws ReferenceSyntaxError with the reference implementation's message
 */
export function parseDockerRef(s: string): ReferenceParts {
  return dockerRefOf(parseNormalizedNamed(s));
}

/** {@link parseDockerRef} of already parsed parts: `latest` when there is neither tag nor digest; a digest wins over a tag. */
function dockerRefOf(p: ReferenceParts): ReferenceParts {
  return p.digest !== undefined ? { domain: p.domain, path: p.path, digest: p.digest } : { domain: p.domain, path: p.path, tag: p.tag ?? 'latest' };
}

/**
 * Parses and normalises an image reference like `docker pull` does ({@link parseDockerRef}):
 * `normalized` and `familiar` carry the tag (`latest` when none was given) or, when a digest
 * was given, only the digest; `tag` keeps a tag given next to a digest.
 * @throws ReferenceSyntaxError with the grammar's message (`invalid reference format…`)
 */
export function parseImageReference(given: string): ImageReference {
  if (isDigest(given)) {
    // ParseAnyReference reads this as a digest reference, which names no repository.
    throw new ReferenceSyntaxError(`'${given.slice(0, 80)}' is a digest, not an image reference; give REPOSITORY@DIGEST`);
  }
  const parts = parseNormalizedNamed(given);
  const docker = dockerRefOf(parts);
  return {
    given,
    domain: parts.domain,
    path: parts.path,
    tag: parts.tag ?? (parts.digest === undefined ? 'latest' : undefined),
    digest: parts.digest,
    name: parts.path.slice(parts.path.lastIndexOf('/') + 1),
    repository: `${parts.domain}/${parts.path}`,
    normalized: referenceString(docker),
    familiar: familiarString(docker),
  };
}

// --- Patterns -----------------------------------------------------------------------------------

const PATTERN_CHARS = /^[A-Za-z0-9._\-/:@*?[\]^!\\]+$/;
const patternCache = new Map<string, RegExp>();

/**
 * Compiles an image pattern (approval lists in the facility config) to an anchored RegExp.
 * Syntax (Go's `path.Match`, as the reference package's `FamiliarMatch`, plus `**`):
 * `*` any characters except `/`; `**` any characters including `/`; `?` one character except
 * `/`; `[abc]`, `[a-z]`, `[^a-z]` a class; `\x` the character x.
 * @throws Error naming what is wrong (unclosed class, bad range, empty, stray characters)
 */
export function compileImagePattern(pattern: string): RegExp {
  const hit = patternCache.get(pattern);
  if (hit) return hit;
  if (pattern === '') throw new Error('an image pattern must not be empty');
  if (pattern.length > 512) throw new Error('an image pattern must be at most 512 characters');
  if (!PATTERN_CHARS.test(pattern)) throw new Error(`image pattern '${pattern}' may contain only reference characters and * ? [ ] ^ ! \\`);
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') {
      if (pattern[i + 1] === '*') {
        re += '.*';
        while (pattern[i + 1] === '*') i++;
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '\\') {
      if (i + 1 >= pattern.length) throw new Error(`image pattern '${pattern}' ends with an escape`);
      re += escapeRegExp(pattern[++i]);
    } else if (c === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end === -1) throw new Error(`image pattern '${pattern}' has an unclosed '['`);
      let body = pattern.slice(i + 1, end);
      let negate = false;
      if (body.startsWith('^') || body.startsWith('!')) {
        negate = true;
        body = body.slice(1);
      }
      if (body === '' || body.startsWith('-') || body.endsWith('-') || /--/.test(body)) throw new Error(`image pattern '${pattern}' has a bad character class '[${pattern.slice(i + 1, end)}]'`);
      for (const [, lo, hi] of body.matchAll(/(.)-(.)/g)) if (lo > hi) throw new Error(`image pattern '${pattern}' has a bad range '${lo}-${hi}'`);
      re += `[${negate ? '^/' : ''}${body.replace(/[\\\]^]/g, '\\$&')}]`;
      i = end;
    } else if (c === ']') throw new Error(`image pattern '${pattern}' has a stray ']'`);
    else re += escapeRegExp(c);
  }
  const compiled = new RegExp(re + '$');
  patternCache.set(pattern, compiled);
  return compiled;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/**
 * Whether an image pattern matches a reference. Like the reference package's `FamiliarMatch`,
 * the pattern is tried on the familiar string (`busybox:latest`) and the familiar name
 * (`busybox`), and also on the normalised string and repository
 * (`docker.io/library/busybox:latest`, `docker.io/library/busybox`): so `busybox`,
 * `docker.io/library/busybox` and `busybox:*` all match `busybox:1.36`, and a pattern without
 * tag or digest matches every tag and digest of its repositories.
 * @example imagePatternMatches('127.0.0.1:5000/**', parseImageReference('127.0.0.1:5000/a/b:1')) // true
 */
export function imagePatternMatches(pattern: string, ref: ImageReference): boolean {
  const re = compileImagePattern(pattern);
  const familiarRepo = familiarName({ domain: ref.domain, path: ref.path });
  return re.test(ref.familiar) || re.test(familiarRepo) || re.test(ref.normalized) || re.test(ref.repository);
}

/** Parses a reference the Engine reported (`RepoTags`/`RepoDigests`); `null` for `<none>` forms. */
export function engineReference(s: string): ImageReference | null {
  if (s.startsWith('<none>')) return null;
  try {
    return parseImageReference(s);
  } catch {
    return null;
  }
}
