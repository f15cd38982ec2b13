/**
 * The parts of `github.com/distribution/reference` the docker CLI's formatters use, as the
 * formatters want them: `ParseNormalizedNamed` with errors reduced to `undefined` (the CLI
 * then shows the raw string), `FamiliarName` and `FamiliarString`
 * (`docker.io/library/busybox:latest` → `busybox:latest`). The grammar itself lives once, in
 * core/reference.ts.
 *
 * @module
 */
import { familiarName, familiarString, parseNormalizedNamed as parseStrict, type ReferenceParts } from '../reference.ts';

/** A parsed, normalized image reference (`docker.io/library/busybox:latest`). */
export type NamedReference = ReferenceParts;

/**
 * `reference.ParseNormalizedNamed(s)`; `undefined` where Go returns an error (64-hex IDs,
 * upper-case repository names, bad grammar, over-long names, unknown digest algorithms).
 */
export function parseNormalizedNamed(s: string): NamedReference | undefined {
  try {
    return parseStrict(s);
  } catch {
    return undefined;
  }
}

export { familiarName, familiarString };
