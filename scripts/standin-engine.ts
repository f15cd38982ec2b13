/**
 * A stand-in Engine for CPU profiles of our own code, without the Engine's time and load in them:
 * `npx tsx scripts/standin-engine.ts SOCKET [--apps 500] [--facility exp]` listens on the Unix
 * socket SOCKET and answers, from recorded Engine 20.10 responses (test/fixtures/engine/):
 * `GET /version`, `/_ping`, `/containers/json` (N app summaries of `--facility`, users of their own,
 * ~1.6 KB each as the Engine writes them; filters are ignored) and `/containers/{name}/json` (the
 * recorded inspect, renamed to that app). Anything else is a 404, reported on stderr.
 * Point a facility's `engine.host` at `unix://SOCKET`, run the runner against it, and time or
 * profile reads with curl (README, Performance). Not for tests: they use the real Engine.
 */
import { readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { LABELS } from '../core/naming.ts';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { apps: { type: 'string', default: '500' }, facility: { type: 'string', default: 'exp' } } });
const socket = positionals[0];
if (!socket) throw new Error('usage: standin-engine.ts SOCKET [--apps N] [--facility ID]');
const fixtures = new URL('../test/fixtures/engine/', import.meta.url);
const summary = JSON.parse(readFileSync(new URL('format-containers.json', fixtures), 'utf8')).list[0];
const inspect = JSON.parse(readFileSync(new URL('inspect-app.json', fixtures), 'utf8'));
const facility = values.facility;
const image = 'src-test/bench-idle:standin';

/** The labels create-app puts on an app (core/naming.ts), for app `name` of `user`. */
const labelsOf = (name: string, user: string) => ({
  [LABELS.schema]: '1',
  [LABELS.facility]: facility,
  [LABELS.app]: name,
  [LABELS.user]: user,
  [LABELS.imageReference]: image,
  [LABELS.imageNormalized]: `docker.io/${image}`,
  [LABELS.imageId]: summary.ImageID,
  [LABELS.createParams]: JSON.stringify({ publishHost: '127.0.0.1', ports: ['80/tcp'] }),
});

const apps = Array.from({ length: Number(values.apps) }, (_, i) => {
  const user = `u${String(i).padStart(3, '0')}`;
  const name = `bench-idle--${user}`;
  return {
    ...summary,
    Id: (i.toString(16).padStart(8, '0') + summary.Id).slice(0, 64),
    Names: [`/${name}`],
    Image: image,
    Command: `sh -c 'trap "exit 0" TERM INT; sleep 1000000000 & wait $!'`,
    Labels: labelsOf(name, user),
    Ports: [{ IP: '127.0.0.1', PrivatePort: 80, PublicPort: 30000 + i, Type: 'tcp' }],
    NetworkSettings: { Networks: { [`srcnet--${facility}--${user}`]: summary.NetworkSettings.Networks.bridge } },
    Mounts: [{ Type: 'bind', Source: `/home/${user}`, Destination: '/home/user', Mode: '', RW: true, Propagation: 'rprivate' }],
  };
});
const list = Buffer.from(JSON.stringify(apps));
const byName = new Map(apps.map((a) => [a.Names[0].slice(1), Buffer.from(JSON.stringify({ ...inspect, Id: a.Id, Name: a.Names[0], Config: { ...inspect.Config, Labels: a.Labels } }))]));
const version = Buffer.from(JSON.stringify({ ApiVersion: '1.41', MinAPIVersion: '1.12', Version: '20.10.24', Os: 'linux', Arch: 'amd64' }));

rmSync(socket, { force: true });
createServer((req, res) => {
  const path = (req.url ?? '/').replace(/^\/v[0-9.]+/, '').split('?')[0];
  const json = (body: Buffer) => void res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  if (path === '/containers/json') return json(list);
  if (path === '/version') return json(version);
  if (path === '/_ping') return void res.writeHead(200, { 'content-type': 'text/plain', 'api-version': '1.41' }).end('OK');
  const one = /^\/containers\/([^/]+)\/json$/.exec(path)?.[1];
  const found = one && byName.get(decodeURIComponent(one));
  if (found) return json(found);
  process.stderr.write(`standin-engine: no recorded answer for ${req.method} ${req.url}\n`);
  res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ message: `the stand-in has no answer for ${path}` }));
}).listen(socket, () => console.log(`stand-in Engine on ${socket}: ${apps.length} apps of facility ${facility} (${list.length} bytes of list)`));
