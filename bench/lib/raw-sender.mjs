// Baseline "raw": the machine's HTTP limit. A minimal sender posts signed 1 KiB messages straight
// to the sink with an undici pool — no API in front, nothing stored. Same signing code as
// Hookbridge (core/signing.ts), same payload, same sink.
import crypto from 'node:crypto';
import { Pool } from 'undici';
import { signatureHeaders } from '../../packages/server/dist/core/signing.js';
import { nowMs, serve } from './rpc.mjs';
import { payloadOf } from './stats.mjs';

async function run({ sinkUrl, group, count, concurrency, secret }) {
  const pool = new Pool(sinkUrl, { connections: concurrency, pipelining: 1, keepAliveTimeout: 60_000 });
  const runId = crypto.randomBytes(4).toString('hex');
  let next = 0;
  let failures = 0;
  const t0 = nowMs();
  const client = async () => {
    while (next < count) {
      const i = next++;
      const body = JSON.stringify(payloadOf(i));
      const headers = { 'content-type': 'application/json', 'user-agent': 'bench-raw', ...signatureHeaders({ scheme: 'standard', messageId: `raw_${runId}_${i}`, timestamp: Math.floor(Date.now() / 1000), body, secrets: [secret] }) };
      const res = await pool.request({ method: 'POST', path: `/ok/${group}/`, headers, body });
      await res.body.dump();
      if (res.statusCode >= 300) failures++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, client));
  const t1 = nowMs();
  await pool.close();
  return { startedAt: t0, endedAt: t1, failures };
}

serve({ run });
