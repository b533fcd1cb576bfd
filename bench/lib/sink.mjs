// The loopback receiver every workload delivers to, in a process of its own.
//   /ok/<group>/…   read the body, note when the request arrived, answer 200;
//   /hang/…         never answer (the sender's timeout ends it).
// Requests are identified by `webhook-id` (Hookbridge and both baselines sign with Standard
// Webhooks), so the orchestrator can join arrival times with the load generator's send times.
import http from 'node:http';
import { nowMs, serve } from './rpc.mjs';

let arrivals = new Map(); // webhook-id → first arrival (ms)
let groups = new Map(); // group → { count, first, last }
let duplicates = 0;
let hanging = 0;
let waiters = [];

const server = http.createServer((req, res) => {
  if (req.url.startsWith('/hang/')) {
    hanging++;
    req.on('close', () => hanging--);
    req.resume();
    return;
  }
  req.resume();
  req.on('end', () => {
    const t = nowMs();
    // Fan-out sends one webhook-id to many endpoints: a request is its id at its path.
    const key = `${req.url}#${req.headers['webhook-id']}`;
    if (arrivals.has(key)) duplicates++;
    else arrivals.set(key, t);
    const group = req.url.split('/')[2] ?? '';
    let g = groups.get(group);
    if (!g) groups.set(group, (g = { count: 0, first: t, last: t }));
    g.count++;
    g.last = t;
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    if (waiters.length) checkWaiters();
  });
});
server.keepAliveTimeout = 60_000;
server.headersTimeout = 65_000;
server.requestTimeout = 0;
server.maxRequestsPerSocket = 0;

function checkWaiters() {
  waiters = waiters.filter((w) => {
    const g = groups.get(w.group);
    if ((g?.count ?? 0) < w.count) return true;
    clearTimeout(w.timer);
    w.resolve(summary(w.group));
    return false;
  });
}

function summary(group) {
  const g = groups.get(group) ?? { count: 0, first: null, last: null };
  return { ...g, duplicates, hanging };
}

await new Promise((r) => server.listen(0, '127.0.0.1', r));

serve({
  address: () => ({ url: `http://127.0.0.1:${server.address().port}` }),
  reset: () => {
    arrivals = new Map();
    groups = new Map();
    duplicates = 0;
    return true;
  },
  /** Resolves once `count` requests of `group` arrived, or after `timeoutMs` with what did. */
  waitFor: ({ group, count, timeoutMs }) =>
    new Promise((resolve) => {
      const w = { group, count, resolve, timer: setTimeout(() => { waiters = waiters.filter((x) => x !== w); resolve({ ...summary(group), timedOut: true }); }, timeoutMs) };
      waiters.push(w);
      checkWaiters();
    }),
  summary: ({ group }) => summary(group),
  /** Arrival times at `path` of the given webhook-ids (undefined when not arrived). */
  arrivalsOf: ({ path, ids }) => ids.map((id) => arrivals.get(`${path}#${id}`)),
});
