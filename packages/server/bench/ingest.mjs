#!/usr/bin/env node
// Benchmark: ingest latency while the forwarding destination hangs (issue 4's goal: p99 < 200 ms
// over 100 requests — ingest must never wait on forwarding). Loopback only. Exits 1 if missed.
import http from 'node:http';
import { loadConfig } from '../dist/config.js';
import { startServer } from '../dist/server.js';
import { createLogger } from '../dist/logger.js';
import fs from 'node:fs'; import os from 'node:os'; import path from 'node:path';
const hang = http.createServer(() => {}); // never answers
await new Promise((r) => hang.listen(0, '127.0.0.1', r));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hb-bench-'));
const key = 'hb_test_bench_key_000000000000';
const srv = await startServer(loadConfig({ HOOKBRIDGE_PORT: '0', HOOKBRIDGE_HOST: '127.0.0.1', HOOKBRIDGE_DATA_DIR: dir, HOOKBRIDGE_BOOTSTRAP_API_KEY: key, HOOKBRIDGE_LOG_LEVEL: 'silent' }), { logger: createLogger('silent') });
const res = await fetch(srv.url + '/v1/inbound-endpoints', { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'b', mode: 'forward', destination_url: `http://127.0.0.1:${hang.address().port}/`, timeout_ms: 30000, verification: { type: 'none' } }) });
const ep = await res.json();
const times = [];
for (let i = 0; i < 100; i++) {
  const t = performance.now();
  const r = await fetch(ep.ingest_url.replace('localhost', '127.0.0.1'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ i, pad: 'x'.repeat(500) }) });
  await r.arrayBuffer();
  if (r.status !== 202) throw new Error('status ' + r.status);
  times.push(performance.now() - t);
}
times.sort((a, b) => a - b);
const p99 = times[98];
console.log(`ingest with hanging destination (100 requests): p50 ${times[49].toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${times[99].toFixed(1)} ms — goal p99 < 200 ms: ${p99 < 200 ? 'met' : 'MISSED'}`);
hang.closeAllConnections(); hang.close();
await srv.close();
fs.rmSync(dir, { recursive: true, force: true });
process.exit(p99 < 200 ? 0 : 1);
