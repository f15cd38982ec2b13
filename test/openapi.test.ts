/**
 * The OpenAPI document: valid OpenAPI 3.1, generated from the routes (every route, parameter
 * and error code in it), served at /openapi.json as committed, and /docs served without any
 * external asset. Unit lane: no Engine.
 */
import { describe, expect, it } from 'vitest';
import { validate, compileErrors } from '@readme/openapi-parser';
import { readFileSync } from 'node:fs';
import { routes } from '../functions/index.ts';
import { STATUS_OF } from '../core/http.ts';
import { generated } from '../scripts/openapi.ts';
import { app } from './helpers.ts';
import { checkAnswer, DOC } from './openapi-check.ts';

describe('OpenAPI document', () => {
  it('validates as OpenAPI 3.1', async () => {
    const r = await validate(structuredClone(DOC));
    if (!r.valid) throw new Error(compileErrors(r));
    expect(r.specification).toBe('OpenAPI');
    expect(DOC.openapi).toBe('3.1.0');
  });

  it('is what npm run openapi generates (openapi.json and the client types are up to date)', async () => {
    const files = await generated();
    for (const [rel, text] of Object.entries(files)) expect(readFileSync(new URL(`../${rel}`, import.meta.url), 'utf8'), rel).toBe(text);
  });

  it('has every route with its method and every query parameter, and every error code', () => {
    for (const r of routes) {
      const op = DOC.paths[`/{facility}/${r.meta.route}`]?.[r.meta.method.toLowerCase()];
      expect(op, r.meta.route).toBeTruthy();
      const names = op.parameters.filter((p: any) => p.in === 'query').map((p: any) => p.name);
      expect(names).toEqual(Object.keys(r.meta.query));
      for (const p of op.parameters.filter((p: any) => p.in === 'query')) expect(p.required).toBe(r.meta.query[p.name].required);
    }
    const codes = new Set<string>();
    for (const item of Object.values<any>(DOC.paths))
      for (const op of Object.values<any>(item))
        for (const res of Object.values<any>(op.responses)) for (const c of res.content?.['application/problem+json']?.schema?.allOf?.[1]?.properties?.code?.enum ?? []) codes.add(c);
    // app_unreachable: answered by the app gateway on an app's host, never by a route
    for (const c of Object.keys(STATUS_OF)) if (c !== 'partial_failure' && c !== 'unknown_route' && c !== 'app_unreachable') expect(codes, c).toContain(c);
  });

  it('refuses an undocumented field, status or media type (the schemas are closed)', () => {
    const path = '/{facility}/start-app';
    expect(() => checkAnswer(path, 'POST', 200, 'application/json', { name: 'a--b', id: 'x', state: 'running' })).not.toThrow();
    expect(() => checkAnswer(path, 'POST', 200, 'application/json', { name: 'a--b', id: 'x', state: 'running', extra: 1 })).toThrow(/does not match/);
    expect(() => checkAnswer(path, 'POST', 201, 'application/json', { name: 'a--b', id: 'x', state: 'running' })).toThrow(/not documented/);
    expect(() => checkAnswer(path, 'POST', 200, 'text/plain', 'ok')).toThrow(/not documented/);
    expect(() => checkAnswer(path, 'POST', 404, 'application/problem+json', { type: 't', title: 'Not Found', status: 404, code: 'node_not_found', detail: 'd' })).toThrow(/does not match/);
  });

  it('is served at /openapi.json as committed, and /docs is a page with no external asset', async () => {
    const res = await app.fetch(new Request('http://api.test/openapi.json'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.text()).toBe(readFileSync(new URL('../openapi/openapi.json', import.meta.url), 'utf8'));
    const docs = await app.fetch(new Request('http://api.test/docs'));
    expect(docs.status).toBe(200);
    expect(docs.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await docs.text();
    expect(html).not.toMatch(/\b(src|href)="(https?:)?\/\//);
    expect((await app.fetch(new Request('http://api.test/docs', { method: 'POST' }))).status).toBe(405);
  });
});
