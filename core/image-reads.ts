/**
 * Read side of images: `get-images`, the rows of `docker images --format json` plus what only
 * this API knows: how many of the facility's apps were created from each image, and whether
 * each row's reference is approved for create-app in the facility.
 * @module
 */
import type { Facility } from './facility.ts';
import type { AppBackend } from './backend.ts';
import { formatImageSummary, type EngineImageSummary, type ImageJson } from './format/images.ts';
import { approvalOf, type Approval } from './images/approval.ts';
import { requestsByReference } from './images/requests.ts';
import type { ImageRequest } from './images/store.ts';
import { engineReference, familiarName, type ImageReference } from './reference.ts';

/** One `get-images` row. */
export interface ImageRow extends ImageJson {
  /**
   * Apps of this facility created from this image (by the image ID our `image.id` label
   * records: containers in solo mode, services in swarm mode), counted per image like the CLI's
   * `Containers`, which the Engine reports as -1.
   */
  CreatedContainerCount: number;
  /** Whether create-app may use this row's reference: `approved`, `pending`, `denied`, or `none`. */
  ApprovalState: Approval['state'];
  /** The state of the row's image request (`pending` … `denied`), `null` when never requested. */
  RequestState: ImageRequest['state'] | null;
}

const RANK: Record<Approval['state'], number> = { approved: 3, pending: 2, denied: 1, none: 0 };

/**
 * The `docker images --format json` rows of the facility's Engine (same order, same values,
 * `now` for `CreatedSince`), each with `CreatedContainerCount` (the facility's apps created
 * from it, listed by `apps`), `ApprovalState`, `RequestState`.
 */
export async function imageRows(f: Facility, apps: () => Promise<AppBackend>, opts: { now?: Date } = {}): Promise<ImageRow[]> {
  const appImageIds = async (): Promise<(string | undefined)[]> => (await (await apps()).list()).map((a) => a.imageId);
  const [images, ids, records] = await Promise.all([f.engine.listImages() as Promise<EngineImageSummary[]>, appImageIds(), requestsByReference(f)]);
  const counts = new Map<string, number>();
  for (const id of ids) if (id) counts.set(id, (counts.get(id) ?? 0) + 1);
  const now = opts.now ?? new Date();
  const approval = (ref: ImageReference | null): Approval => (ref ? approvalOf(f, ref, records.get(ref.normalized) ?? null) : { state: 'none', by: null, requestState: null, reason: null });
  return images.flatMap((img) =>
    formatImageSummary(img, { now }).map((row) => {
      let a: Approval;
      if (row.Repository === '<none>') a = approval(null);
      else if (row.Tag !== '<none>') a = approval(engineReference(`${row.Repository}:${row.Tag}`));
      else {
        // A digest-only row: the image's digests in this repository.
        const candidates = (img.RepoDigests ?? []).map(engineReference).filter((r): r is ImageReference => !!r && familiarName(r) === row.Repository);
        a = candidates.map(approval).reduce((best, x) => (RANK[x.state] > RANK[best.state] ? x : best), approval(null));
      }
      return { ...row, CreatedContainerCount: counts.get(img.Id) ?? 0, ApprovalState: a.state, RequestState: a.requestState };
    }),
  );
}
