/**
 * GET /{facility}/get-images on the real Engine: `docker images --format json` parity with the
 * v28 CLI field by field, `CreatedContainerCount` from our labels (per facility, apps only),
 * and each row's approval state (tags, several tags of one image, a digest-only row).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../core/auth.ts';
import { settlePulls } from '../core/images/pull-worker.ts';
import { LABELS } from '../core/naming.ts';
import { betweenInTime, cliJsonLines } from './cli.ts';
import { engine, removeUserApps, uniqueUser } from './helpers.ts';
import { api, buildImage, push, REG, removeImages, RUN, useRegistries, waitForState } from './image-helpers.ts';

useRegistries();

const enc = encodeURIComponent;
const ONE = `src-it-${RUN}/one`;
const TWO = `src-it-${RUN}/two`;
const DIG = `${REG.open}/${RUN}/dig`;
let digRef = '';
let oneId = '';
const [a, b, c, d, e] = [uniqueUser('ga'), uniqueUser('gb'), uniqueUser('gc'), uniqueUser('gd'), uniqueUser('ge')];
const unmanaged = `srcit-unmanaged-${RUN}`;
const DOCKER_FIELDS = ['Containers', 'CreatedAt', 'CreatedSince', 'Digest', 'ID', 'Repository', 'SharedSize', 'Size', 'Tag', 'UniqueSize', 'VirtualSize'];

async function ok(method: string, path: string, want: number[] = [200, 201, 202]): Promise<any> {
  const r = await api(method, path);
  if (!want.includes(r.status)) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

beforeAll(async () => {
  oneId = buildImage(`${ONE}:1`, 16);
  await engine.tagImage(`${ONE}:1`, ONE, '2');
  buildImage(`${TWO}:1`, 8);
  buildImage(`${DIG}:1`, 24);
  const digest = await push(DIG, '1');
  await removeImages(`${DIG}:1`);
  digRef = `${DIG}@${digest}`;

  // one:1 and one:2 approved in demo; one:1 in other; two denied; dig approved by digest.
  for (const ref of [`${ONE}:1`, `${ONE}:2`]) {
    await ok('POST', `/demo/request-image?image=${enc(ref)}`);
    await ok('POST', `/demo/approve-image?image=${enc(ref)}`);
  }
  await ok('POST', `/other/approve-image?image=${enc(`${ONE}:1`)}`);
  await ok('POST', `/demo/request-image?image=${enc(`${TWO}:1`)}`);
  await ok('POST', `/demo/deny-image?image=${enc(`${TWO}:1`)}&reason=test`);
  await ok('POST', `/demo/approve-image?image=${enc(digRef)}`);
  await waitForState('demo', digRef, ['pulled']);

  // Apps: three in demo from image one (two tags), one in other, one in demo by digest.
  await ok('POST', `/demo/create-app?image=${enc(`${ONE}:1`)}&user=${a}`);
  await ok('POST', `/demo/create-app?image=${enc(`${ONE}:1`)}&user=${b}`);
  await ok('POST', `/demo/create-app?image=${enc(`${ONE}:2`)}&user=${c}`);
  await ok('POST', `/other/create-app?image=${enc(`${ONE}:1`)}&user=${d}`);
  await ok('POST', `/demo/create-app?image=${enc(digRef)}&user=${e}`);
  // A container that is not an app (no labels of ours) is not counted.
  await engine.createContainer(unmanaged, { Image: `${ONE}:1`, Labels: { [LABELS.imageId]: oneId } });
}, 180_000);

afterAll(async () => {
  await settlePulls();
  await removeUserApps(a, b, c, d, e);
  await engine.removeContainer(unmanaged, { force: true }).catch(() => undefined);
  await removeImages(`${ONE}:1`, `${ONE}:2`, `${TWO}:1`, digRef);
}, 120_000);

describe('GET /{facility}/get-images', () => {
  it('CreatedContainerCount: apps of this facility per image (all its tags), from our labels', async () => {
    const rows = await ok('GET', '/demo/get-images');
    const one = rows.filter((r: any) => r.Repository === ONE);
    expect(one.map((r: any) => r.Tag).sort()).toEqual(['1', '2']);
    expect(new Set(one.map((r: any) => r.ID))).toEqual(new Set([oneId.slice(7, 19)]));
    for (const r of one) expect(r.CreatedContainerCount).toBe(3);
    expect(rows.find((r: any) => r.Repository === TWO).CreatedContainerCount).toBe(0);
    expect(rows.find((r: any) => r.Repository === DIG).CreatedContainerCount).toBe(1);
    const other = await ok('GET', '/other/get-images');
    for (const r of other.filter((x: any) => x.Repository === ONE)) expect(r.CreatedContainerCount).toBe(1);
  });

  it('approval state per row: approved, denied, a digest-only row, the config-approved test images', async () => {
    const rows = await ok('GET', '/demo/get-images');
    const row = (repo: string, tag: string) => rows.find((r: any) => r.Repository === repo && r.Tag === tag);
    expect(row(ONE, '1')).toMatchObject({ ApprovalState: 'approved', RequestState: 'pulled' });
    expect(row(ONE, '2')).toMatchObject({ ApprovalState: 'approved', RequestState: 'pulled' });
    expect(row(TWO, '1')).toMatchObject({ ApprovalState: 'denied', RequestState: 'denied' });
    expect(row(DIG, '<none>')).toMatchObject({ ApprovalState: 'approved', RequestState: 'pulled', Digest: '' });
    expect(row('src-test/busybox', 'latest').ApprovalState).toBe('approved'); // docker.io/src-test/* in the config
    const other = await ok('GET', '/other/get-images');
    const o = (tag: string) => other.find((r: any) => r.Repository === ONE && r.Tag === tag);
    expect(o('1').ApprovalState).toBe('approved');
    expect(o('2')).toMatchObject({ ApprovalState: 'none', RequestState: null });
    expect(other.find((r: any) => r.Repository === TWO)).toMatchObject({ ApprovalState: 'none' });
  });

  it('every row is what `docker images --format json` (CLI 28) prints, field by field, plus our three fields', async () => {
    const key = (r: any) => `${r.ID}|${r.Repository}|${r.Tag}`;
    let compared = 0;
    let mine = 0;
    const keys = (rows: any[]) => rows.map(key).sort().join('\n');
    for (let attempt = 0; attempt < 5 && compared === 0; attempt++) {
      const before = await cliJsonLines(['images', '--format', 'json']);
      const ours = await ok('GET', '/demo/get-images');
      const after = await cliJsonLines(['images', '--format', 'json']);
      const afterByKey = new Map(after.map((r) => [key(r), r]));
      const oursByKey = new Map<string, any>(ours.map((r: any) => [key(r), r]));
      for (const r of ours) expect(Object.keys(r)).toEqual([...DOCKER_FIELDS, 'CreatedContainerCount', 'ApprovalState', 'RequestState']);
      // other suites build, tag and remove images at the same time: compare only a list that
      // stood still through all three reads (no row more, no row less); a list of ours that
      // never matches leaves `compared` at 0 and fails below
      if (keys(before) !== keys(after) || keys(ours) !== keys(before)) {
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      for (const want of before) {
        const got = oursByKey.get(key(want));
        for (const f of DOCKER_FIELDS) {
          if (f === 'CreatedSince') expect(betweenInTime(got.CreatedSince, want.CreatedSince, afterByKey.get(key(want)).CreatedSince), `${key(want)} ${f}: ${got.CreatedSince}`).toBe(true);
          else expect(got[f], `${key(want)} ${f}`).toBe(want[f]);
        }
        compared++;
        if (want.Repository === ONE || want.Repository === TWO || want.Repository === DIG) mine++;
      }
    }
    expect(compared).toBeGreaterThan(4);
    expect(mine).toBe(4);
  });

  it('a user token may list images; no token is 401', async () => {
    const { token } = await mintToken({ role: 'user', user: a, name: 'get-images test' });
    const r = await api('GET', '/demo/get-images', { token });
    expect(r.status).toBe(200);
    expect(r.body.some((x: any) => x.Repository === ONE)).toBe(true);
    expect((await api('GET', '/demo/get-images', { token: null })).status).toBe(401);
  });
});
