/**
 * `npm run bench` at tiny sizes (`--smoke`), so the benchmark script cannot rot: every workload
 * runs against real server processes, the sink and the load generators, and the results file has
 * a figure for each. Goals are not judged at these sizes (speed is the bench's job, not a test's).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { SERVER_PACKAGE, tempDir } from './helpers.js';

const BENCH = path.resolve(SERVER_PACKAGE, '../../bench');
const RUN = path.join(BENCH, 'run.mjs');

it('runs every workload at smoke size and writes a results file with every figure', async () => {
  const out = tempDir('hookbridge-bench-');
  const r = spawnSync(process.execPath, [RUN, '--smoke', '--out', out, '--no-docs'], { encoding: 'utf8', timeout: 240_000 });
  expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
  const [file] = fs.readdirSync(out).filter((f) => f.endsWith('.json'));
  const report = JSON.parse(fs.readFileSync(path.join(out, file), 'utf8'));
  const byId = Object.fromEntries(report.results.map((x: { id: string }) => [x.id, x]));

  expect(report.baseline.raw.delivered_per_s).toBeGreaterThan(0);
  expect(report.baseline.relay.delivered_per_s).toBeGreaterThan(0);
  const expected = ['W1', 'W2', 'W3', 'W4', 'W5', 'W6', 'M', ...(process.env.CI === 'true' || report.options.workloads.includes('W1-pg') ? ['W1-pg'] : [])];
  for (const id of expected) expect(byId[id], `workload ${id}`).toBeDefined();
  for (const id of ['W1', 'W3']) {
    expect(byId[id].throughput.delivered_per_s).toBeGreaterThan(0);
    expect(byId[id].latency.end_to_end_ms.p50).toBeGreaterThan(0);
    expect(Math.max(...byId[id].peak_rss_mb)).toBeGreaterThan(10);
  }
  expect(byId.W2.throughput.deliveries).toBe(report.options.fanoutMessages * report.options.fanoutEndpoints);
  expect(byId.W4.latency.messages).toBeGreaterThan(0);
  expect(byId.W5.forwarded).toBe(report.options.inbound);
  expect(byId.W6.accept_ms.n).toBe(20);
  // Each goal carries what it was compared with, so the table can be checked by hand.
  for (const g of byId.W1.goals) expect(g).toMatchObject({ name: expect.any(String), value: expect.any(Number), target: expect.any(String), met: expect.any(Boolean) });
  expect(r.stdout).toMatch(/id\s+figure\s+value\s+baseline\s+ratio\s+goal\s+met/);

  // The generated block of docs/benchmarks.md, written into a copy: the hand-written rest stays.
  const page = path.join(out, 'benchmarks.md');
  fs.copyFileSync(path.resolve(BENCH, '../docs/benchmarks.md'), page);
  const before = fs.readFileSync(page, 'utf8');
  const { writeDocs } = await import(path.join(BENCH, 'lib/report.mjs'));
  writeDocs(page, report);
  const after = fs.readFileSync(page, 'utf8');
  const outside = (text: string) => text.replace(/<!-- bench:results:start -->[\s\S]*<!-- bench:results:end -->/, '');
  expect(outside(after)).toBe(outside(before));
  expect(after).toContain(`bench/results/${file}`);
  expect(after).toMatch(/\| W1 \| delivered\/s \| [\d.]+ \| bare relay/);
}, 300_000);
