#!/usr/bin/env node
// `npm run bench`: Hookbridge's speed against two baselines measured in the same run on the same
// machine (docs/benchmarks.md). Everything runs on loopback; the sink and the load generators are
// processes of their own. Prints a table, writes bench/results/<timestamp>.json and refreshes the
// generated part of docs/benchmarks.md.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { spawnChild } from './lib/rpc.mjs';
import { baselines, WORKLOADS } from './lib/workloads.mjs';
import { machine, memoryGoals, rows, table, writeDocs } from './lib/report.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const HELP = `Usage: npm run bench -- [options]

Options:
  --workloads LIST     comma-separated, of W1,W1-pg,W2,W3,W4,W5,W6,W7 (default: all; W2–W4 compare with W1;
                       W7, the console's first load, needs chromium)
  --store S            sqlite | postgres: the store of W1–W6 (default sqlite; W1-pg is always PostgreSQL)
  --messages N         messages of each throughput run (default 20000)
  --latency-seconds N  length of each fixed-rate latency run (default 10)
  --backlog N          W3's waiting deliveries (default 1000000)
  --fanout-messages N  W2's messages (default 500); --fanout-endpoints N its endpoints (default 100)
  --inbound N          W5's requests (default 20000)
  --pg-url URL         PostgreSQL server to create bench databases on (default $HOOKBRIDGE_TEST_PG_URL
                       or postgres://postgres@127.0.0.1:5432/postgres); W1-pg is skipped when unreachable
  --smoke              tiny sizes, goals not judged (the test suite runs this so the script cannot rot)
  --out DIR            where the results JSON goes (default bench/results)
  --no-docs            do not rewrite docs/benchmarks.md
  --profile            run the servers with --cpu-prof; profiles go to <out>/profiles/
  -h, --help           this text

Examples:
  npm run bench
  npm run bench -- --workloads W1,W3 --backlog 200000
  npm run bench -- --store postgres --workloads W1,W2`;

const { values: a } = parseArgs({
  options: {
    workloads: { type: 'string' }, store: { type: 'string', default: 'sqlite' }, messages: { type: 'string' },
    'latency-seconds': { type: 'string' }, backlog: { type: 'string' }, 'fanout-messages': { type: 'string' },
    'fanout-endpoints': { type: 'string' }, inbound: { type: 'string' }, 'pg-url': { type: 'string' },
    smoke: { type: 'boolean', default: false }, out: { type: 'string' }, 'no-docs': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false },
  },
});
if (a.help) {
  console.log(HELP);
  process.exit(0);
}
const num = (v, smoke, full) => (v !== undefined ? Number(v) : a.smoke ? smoke : full);
const outDir = path.resolve(a.out ?? path.join(ROOT, 'bench/results'));
const opts = {
  store: a.store,
  smoke: a.smoke,
  messages: num(a.messages, 300, 20_000),
  latencySeconds: num(a['latency-seconds'], 1, 10),
  backlog: num(a.backlog, 2_000, 1_000_000),
  fanoutMessages: num(a['fanout-messages'], 10, 500),
  fanoutEndpoints: num(a['fanout-endpoints'], 20, 100),
  inbound: num(a.inbound, 300, 20_000),
  pgUrl: a['pg-url'] ?? process.env.HOOKBRIDGE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  profileDir: a.profile ? path.join(outDir, 'profiles') : undefined,
};
if (!['sqlite', 'postgres'].includes(opts.store)) {
  console.error(`--store must be sqlite or postgres, not ${opts.store}`);
  process.exit(2);
}
const selected = a.workloads ? a.workloads.split(',').map((s) => s.trim()) : Object.keys(WORKLOADS);
for (const w of selected) if (!WORKLOADS[w]) {
  console.error(`unknown workload ${w} (known: ${Object.keys(WORKLOADS).join(', ')})`);
  process.exit(2);
}
for (const [k, v] of Object.entries(opts)) if (typeof v === 'number' && !(v > 0)) {
  console.error(`${k} must be a positive number`);
  process.exit(2);
}

async function pgReachable() {
  const c = new pg.Client({ connectionString: opts.pgUrl, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    await c.end();
    return true;
  } catch (err) {
    return err.message;
  }
}

const started = Date.now();
const log = (s) => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${s}`);
const pgState = selected.includes('W1-pg') || opts.store === 'postgres' ? await pgReachable() : true;
if (pgState !== true) {
  if (opts.store === 'postgres' || process.env.CI === 'true') {
    console.error(`PostgreSQL at ${opts.pgUrl} is unreachable (${pgState})`);
    process.exit(1);
  }
  console.log(`SKIPPED: W1-pg — PostgreSQL at ${opts.pgUrl} is unreachable (${pgState})`);
  selected.splice(selected.indexOf('W1-pg'), 1); // here only when W1-pg was selected: --store postgres exited above
}
if (opts.profileDir) fs.mkdirSync(opts.profileDir, { recursive: true });

const sink = await spawnChild(new URL('./lib/sink.mjs', import.meta.url).pathname);
const loadgen = await spawnChild(new URL('./lib/loadgen.mjs', import.meta.url).pathname);
const loadgen2 = await spawnChild(new URL('./lib/loadgen.mjs', import.meta.url).pathname);
const ctx = { opts, sink, loadgen, loadgen2, sinkUrl: (await sink.call('address')).url, baseline: {} };
const results = [];
let failed = false;
try {
  log('baselines: raw sender, bare relay');
  results.push(await baselines(ctx));
  log(`  raw ${Math.round(ctx.baseline.raw.delivered_per_s)}/s, relay ${Math.round(ctx.baseline.relay.delivered_per_s)}/s (${ctx.baseline.relay.cpu_ms_per_delivery.toFixed(3)} ms CPU per message)`);
  for (const id of selected) {
    log(`${id} …`);
    const r = await WORKLOADS[id](ctx);
    results.push(r);
    for (const g of r.goals) log(`  ${g.name}: ${Math.round(g.value * 10) / 10} (goal ${g.target}) ${g.met ? 'met' : 'MISSED'}`);
    if (r.throughput?.cpu_ms_per_delivery) log(`  server CPU per delivery: ${r.throughput.cpu_ms_per_delivery.toFixed(3)} ms`);
  }
  results.push(memoryGoals(results));
} catch (err) {
  failed = true;
  console.error(`bench failed: ${err.stack ?? err}`);
} finally {
  await Promise.all([sink.kill(), loadgen.kill(), loadgen2.kill()]);
}
if (failed) process.exit(1);

const finished = new Date();
const file = `${finished.toISOString().replace(/[:.]/g, '-')}.json`;
const report = { finished_at: finished.toISOString(), duration_seconds: Math.round((Date.now() - started) / 1000), options: { ...opts, workloads: selected }, machine: machine(), baseline: ctx.baseline, results, file };
fs.mkdirSync(outDir, { recursive: true });
fs.writeFileSync(path.join(outDir, file), JSON.stringify(report, null, 2) + '\n');
console.log(`\n${table(rows(results))}\n\nresults: ${path.join(outDir, file)} (${report.duration_seconds} s)`);
if (!a['no-docs'] && !opts.smoke) {
  writeDocs(path.join(ROOT, 'docs/benchmarks.md'), report);
  console.log('docs/benchmarks.md updated');
}
