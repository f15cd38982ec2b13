/**
 * Image references, parsed and normalised with `@swimlane/docker-reference` (a port of the
 * distribution project's `reference` grammar): implicit `docker.io` and `library/`, registry
 * hosts with ports, namespaces, tags and digests.
 *
 * @example
 * parseImageReference('127.0.0.1:5000/team/jupyter-lab:1.2')
 * // => { given, domain: '127.0.0.1:5000', path: 'team/jupyter-lab', tag: '1.2',
 * //      name: 'jupyter-lab', normalized: '127.0.0.1:5000/team/jupyter-lab:1.2', ... }
 *
 * @module
 */
import dockerReference from '@swimlane/docker-reference';

/** A parsed image reference. */
export interface ImageReference {
  /** The reference exactly as the client gave it. */
  given: string;
  /** Registry host (with port), `docker.io` when implicit. */
  domain: string;
  /** Repository path inside the registry, `library/` added for official images. */
  path: string;
  /** Tag, `latest` when neither tag nor digest was given. */
  tag?: string;
  /** Digest, e.g. `sha256:…`. */
  digest?: string;
  /** The repository's last path component: the IMAGE part of an app name. */
  name: string;
  /** `domain/path` */
  repository: string;
  /** Fully qualified reference (`docker.io/library/busybox:latest`): what approvals compare. */
  normalized: string;
  /** The short form the docker CLI shows (`busybox:latest`, `127.0.0.1:5000/x:1`). */
  familiar: string;
}

/**
 * Parses and normalises an image reference like `docker pull` does (`TagNameOnly`: `latest`
 * added when there is neither tag nor digest).
 * @throws Error with the grammar's message (`invalid reference format…`) when it does not parse
 */
export function parseImageReference(given: string): ImageReference {
  const ref = dockerReference.parseFamiliarName(given);
  const domain = ref.domain ?? 'docker.io';
  const path = ref.repository ?? '';
  const digest = ref.digest;
  const tag = ref.tag ?? (digest ? undefined : 'latest');
  const repository = `${domain}/${path}`;
  const suffix = `${tag ? `:${tag}` : ''}${digest ? `@${digest}` : ''}`;
  let familiarRepo = repository;
  if (domain === 'docker.io') familiarRepo = path.startsWith('library/') && path.split('/').length === 2 ? path.slice(8) : path;
  return {
    given,
    domain,
    path,
    tag,
    digest,
    name: path.slice(path.lastIndexOf('/') + 1),
    repository,
    normalized: repository + suffix,
    familiar: familiarRepo + suffix,
  };
}
