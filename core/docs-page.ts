/**
 * The reference page served at `GET /docs`: one self-contained HTML file (no external script,
 * style or font: it works offline and behind any firewall) that fetches `openapi.json` beside it
 * and renders every operation (method, path, summary, parameters, answers with their status,
 * codes and schema) and every schema with its fields.
 * @module
 */

/** The page's HTML. */
export const DOCS_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>SRC Container API reference</title>
<style>
  body { font: 15px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 72rem; padding: 1rem 2rem; color: #1d1d1f; }
  h1 { margin-bottom: .2rem; } h2 { border-bottom: 1px solid #ddd; padding-bottom: .2rem; margin-top: 2rem; }
  code, pre { font: 13px ui-monospace, monospace; } pre { background: #f6f8fa; padding: .5rem; overflow-x: auto; }
  details.op { border: 1px solid #ddd; border-radius: 6px; margin: .4rem 0; padding: .3rem .6rem; }
  details.op > summary { cursor: pointer; }
  .m { display: inline-block; min-width: 3.5rem; font-weight: 600; text-transform: uppercase; }
  .get { color: #0b61a4; } .post { color: #177245; }
  table { border-collapse: collapse; margin: .4rem 0; } td, th { border: 1px solid #e3e3e3; padding: .2rem .5rem; text-align: left; vertical-align: top; }
  .muted { color: #666; } nav a { margin-right: .8rem; }
</style>
</head>
<body>
<h1 id="title">SRC Container API</h1>
<p id="desc" class="muted">Loading openapi.json…</p>
<nav id="nav"></nav>
<main id="ops"></main>
<h2 id="schemas-title">Schemas</h2>
<main id="schemas"></main>
<script>
const el = (tag, attrs, ...kids) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  for (const k of kids) e.append(k);
  return e;
};
/** Text with \`code\` spans, as elements (never as HTML). */
const md = (text) => { const span = el('span'); String(text || '').split('\x60').forEach((part, i) => span.append(i % 2 ? el('code', {}, part) : part)); return span; };
const refName = (r) => r.slice(r.lastIndexOf('/') + 1);
function typeOf(s) {
  if (!s) return 'any';
  if (s.$ref) return el('a', { href: '#schema-' + refName(s.$ref) }, refName(s.$ref));
  const join = (list, sep) => { const span = el('span'); list.forEach((x, i) => { if (i) span.append(sep); span.append(typeOf(x)); }); return span; };
  if (s.anyOf) return join(s.anyOf, ' | ');
  if (s.allOf) return join(s.allOf.filter((x) => x.$ref), ' & ');
  if (s.enum) return s.enum.map((x) => JSON.stringify(x)).join(' | ');
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.type === 'array') { const span = el('span', {}, 'array of '); span.append(typeOf(s.items)); return span; }
  if (s.type === 'object' && s.additionalProperties && typeof s.additionalProperties === 'object') { const span = el('span', {}, 'map of '); span.append(typeOf(s.additionalProperties)); return span; }
  return s.type || 'any';
}
function fields(s) {
  const t = el('table', {}, el('tr', {}, el('th', {}, 'field'), el('th', {}, 'type'), el('th', {}, 'description')));
  const req = new Set(s.required || []);
  for (const [k, p] of Object.entries(s.properties || {})) {
    t.append(el('tr', {}, el('td', {}, el('code', {}, k + (req.has(k) ? '' : '?'))), el('td', {}, typeOf(p)), el('td', {}, md(p.description))));
  }
  return t;
}
function operation(doc, path, method, op) {
  const d = el('details', { class: 'op', id: 'op-' + op.operationId });
  d.append(el('summary', {}, el('span', { class: 'm ' + method }, method), ' ', el('code', { class: 'path' }, path), ' ', el('span', { class: 'muted' }, op.summary || '')));
  if (op.description) d.append(el('p', {}, md(op.description)));
  const params = (op.parameters || []).map((p) => (p.$ref ? doc.components.parameters[refName(p.$ref)] : p));
  if (params.length) {
    const t = el('table', {}, el('tr', {}, el('th', {}, 'parameter'), el('th', {}, 'in'), el('th', {}, 'type'), el('th', {}, 'description')));
    for (const p of params) t.append(el('tr', {}, el('td', {}, el('code', {}, p.name + (p.required ? '' : '?'))), el('td', {}, p.in), el('td', {}, typeOf(p.schema)), el('td', {}, md(p.description))));
    d.append(t);
  }
  const t = el('table', {}, el('tr', {}, el('th', {}, 'status'), el('th', {}, 'answer'), el('th', {}, 'body')));
  for (const [status, r] of Object.entries(op.responses || {})) {
    const media = Object.entries(r.content || {})[0];
    t.append(el('tr', {}, el('td', {}, status), el('td', {}, md(r.description)), el('td', {}, media ? typeOf(media[1].schema) : '')));
  }
  d.append(t);
  return d;
}
fetch('openapi.json').then((r) => r.json()).then((doc) => {
  document.getElementById('title').textContent = doc.info.title + ' ' + doc.info.version;
  document.getElementById('desc').replaceChildren(md(doc.info.description));
  const ops = document.getElementById('ops');
  const nav = document.getElementById('nav');
  for (const tag of doc.tags || []) {
    const section = el('section', { id: 'tag-' + tag.name }, el('h2', {}, tag.name + ' — ' + (tag.description || '')));
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) if ((op.tags || []).includes(tag.name)) section.append(operation(doc, path, method, op));
    }
    ops.append(section);
    nav.append(el('a', { href: '#tag-' + tag.name }, tag.name));
  }
  nav.append(el('a', { href: '#schemas-title' }, 'schemas'));
  const schemas = document.getElementById('schemas');
  for (const [name, s] of Object.entries(doc.components.schemas)) {
    const sec = el('section', { id: 'schema-' + name }, el('h3', {}, name));
    if (s.description) sec.append(el('p', {}, md(s.description)));
    if (s.properties) sec.append(fields(s));
    else sec.append(el('p', {}, typeOf(s)));
    if (s.anyOf) for (const alt of s.anyOf) if (alt.properties) sec.append(el('p', {}, el('b', {}, alt.title || '')), fields(alt));
    schemas.append(sec);
  }
  document.body.setAttribute('data-ready', 'true');
}).catch((e) => { document.getElementById('desc').textContent = 'Could not load openapi.json: ' + e; });
</script>
</body>
</html>
`;
