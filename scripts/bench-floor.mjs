/**
 * The bench's Node pass-through (scripts/bench.ts): the least any Node process between a client
 * and the Engine does for a read. `GET /?p=PATH&p=PATH…` sends each Engine path (already
 * versioned) at once over one keep-alive agent on the Engine's Unix socket, parses each answer
 * (JSON, else text) and answers them re-serialised: one value, or an array for several (`[]`
 * for none: a Node "hello world"). No
 * routing, auth, validation, formatting or logging. Timed with curl against the raw calls, it
 * shows how much of a read's cost over the raw Engine is Node and this machine rather than our
 * code. Usage: `node scripts/bench-floor.mjs SOCKET_PATH`; prints the port it listens on.
 */
import { Agent, createServer, request } from 'node:http';

const socketPath = process.argv[2];
const agent = new Agent({ keepAlive: true });

/** One Engine GET: the parsed JSON, or the text when it is not JSON. */
const get = (path) =>
  new Promise((resolve, reject) => {
    const req = request({ socketPath, agent, path }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        try {
          resolve(JSON.parse(text));
        } catch {
          resolve(text);
        }
      });
    });
    req.on('error', reject);
    req.end();
  });

const server = createServer(async (req, res) => {
  try {
    const paths = new URL(req.url ?? '/', 'http://localhost').searchParams.getAll('p');
    const bodies = await Promise.all(paths.map(get));
    const body = JSON.stringify(bodies.length === 1 ? bodies[0] : bodies);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
  } catch (e) {
    res.writeHead(502, { 'content-type': 'text/plain' });
    res.end(String(e));
  }
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
