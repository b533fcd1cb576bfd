// Baseline "bare relay": what any webhook sender costs on this machine before durability and
// bookkeeping. Accepts POST /v1/messages, answers 202 with an id, then signs and forwards the
// payload to one destination. Stores nothing, retries nothing. It forwards with at most
// `connections` requests in flight, as Hookbridge does per endpoint (HOOKBRIDGE_ENDPOINT_CONCURRENCY).
import crypto from 'node:crypto';
import http from 'node:http';
import { Pool } from 'undici';
import { signatureHeaders } from '../../packages/server/dist/core/signing.js';
import { serve } from './rpc.mjs';

let destination = null; // { pool, path, secret }
let seq = 0;
const runId = crypto.randomBytes(4).toString('hex');
let forwardFailures = 0;

function forward(id, body) {
  const headers = { 'content-type': 'application/json', 'user-agent': 'bench-relay', ...signatureHeaders({ scheme: 'standard', messageId: id, timestamp: Math.floor(Date.now() / 1000), body, secrets: [destination.secret] }) };
  destination.pool
    .request({ method: 'POST', path: destination.path, headers, body })
    .then((res) => { if (res.statusCode >= 300) forwardFailures++; return res.body.dump(); })
    .catch(() => forwardFailures++);
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    let msg;
    try {
      msg = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      res.writeHead(400).end('{"error":{"code":"invalid_json"}}');
      return;
    }
    if (req.url !== '/v1/messages' || typeof msg?.event_type !== 'string' || msg.payload === undefined) {
      res.writeHead(400).end('{"error":{"code":"invalid_request"}}');
      return;
    }
    const id = `msg_${runId}_${seq++}`;
    res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ id, event_type: msg.event_type }));
    forward(id, JSON.stringify(msg.payload));
  });
});
server.keepAliveTimeout = 60_000;
await new Promise((r) => server.listen(0, '127.0.0.1', r));

serve({
  address: () => ({ url: `http://127.0.0.1:${server.address().port}` }),
  configure: ({ sinkUrl, path, secret, connections }) => {
    destination = { pool: new Pool(sinkUrl, { connections, pipelining: 1, keepAliveTimeout: 60_000 }), path, secret };
    return true;
  },
  stats: () => ({ forwardFailures }),
});
