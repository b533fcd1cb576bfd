// The bench's outputs: a table on stdout, bench/results/<timestamp>.json, and the generated part
// of docs/benchmarks.md (between the bench:results markers; the rest of that page is written by hand).
import fs from 'node:fs';
import os from 'node:os';
import { round } from './stats.mjs';

const START = '<!-- bench:results:start -->';
const cpu = (ms) => (ms === undefined || ms === null ? '' : ms.toFixed(3));
const END = '<!-- bench:results:end -->';

/** M: the peak RSS of the server processes during W1 and W3 (≤ 300 MB). */
export function memoryGoals(results) {
  const goals = [];
  for (const r of results) {
    if (!r.peak_rss_mb || !['W1', 'W3'].includes(r.id)) continue;
    const peak = Math.max(...r.peak_rss_mb);
    goals.push({ name: `peak RSS during ${r.id} (MB)`, value: peak, target: '≤ 300', met: peak <= 300 });
  }
  return { id: 'M', title: 'peak RSS of the server', goals };
}

export function rows(results) {
  const out = [];
  for (const r of results) for (const g of r.goals) out.push({ id: r.id, figure: g.name, value: round(g.value), baseline: g.baseline ?? '', ratio: g.ratio === undefined ? '' : g.ratio.toFixed(2), goal: g.target, met: g.met ? 'met' : 'MISSED' });
  return out;
}

export function table(rs) {
  const cols = ['id', 'figure', 'value', 'baseline', 'ratio', 'goal', 'met'];
  const widths = cols.map((c) => Math.max(c.length, ...rs.map((r) => String(r[c]).length)));
  const line = (cells) => cells.map((c, i) => String(c).padEnd(widths[i])).join('  ');
  return [line(cols), line(widths.map((w) => '-'.repeat(w))), ...rs.map((r) => line(cols.map((c) => r[c])))].join('\n');
}

export function machine() {
  return { cpus: os.cpus().length, cpu_model: os.cpus()[0]?.model, memory_gb: Math.round(os.totalmem() / 2 ** 30), node: process.version, platform: `${os.type()} ${os.release()}` };
}

function markdown(report) {
  const rs = rows(report.results);
  const esc = (s) => String(s).replaceAll('|', '\\|');
  const lines = [
    START,
    `Latest run: ${report.finished_at} · store \`${report.options.store}\` · ${report.machine.cpus} × ${report.machine.cpu_model}, ${report.machine.memory_gb} GiB, Node ${report.machine.node} · ${report.duration_seconds} s · raw [results JSON](../bench/results/${report.file})`,
    '',
    `Baselines (same run): raw sender **${round(report.baseline.raw.delivered_per_s)}** delivered/s; bare relay **${round(report.baseline.relay.delivered_per_s)}** delivered/s (accepts ${round(report.baseline.relay.accepted_per_s)}/s, ${cpu(report.baseline.relay.cpu_ms_per_delivery)} ms CPU per message).`,
    '',
    '| id | figure | value | baseline | ratio | goal | |',
    '|---|---|---|---|---|---|---|',
    ...rs.map((r) => `| ${r.id} | ${esc(r.figure)} | ${r.value} | ${esc(r.baseline)} | ${r.ratio} | ${esc(r.goal)} | ${r.met} |`),
    '',
    'Details per workload (throughput = closed loop, 32 clients; latency = open loop at the rate shown):',
    '',
    '| id | delivered/s | accepted/s | accept p50 / p99 (ms) | accept→received p50 / p99 (ms) | server CPU per delivery (ms) | peak RSS (MB) |',
    '|---|---|---|---|---|---|---|',
    ...report.results.filter((r) => r.throughput || r.latency || r.accepted_per_s).map((r) => {
      const lat = r.latency;
      const acc = lat?.accept_ms ?? r.accept_ms;
      return `| ${r.id} | ${round(r.throughput?.delivered_per_s ?? r.forwarded_per_s) ?? ''} | ${round(r.throughput?.accepted_per_s ?? r.accepted_per_s) ?? ''} | ${acc ? `${round(acc.p50)} / ${round(acc.p99)}` : ''} | ${lat ? `${round(lat.end_to_end_ms.p50)} / ${round(lat.end_to_end_ms.p99)}` : ''} | ${cpu(r.throughput?.cpu_ms_per_delivery)} | ${r.peak_rss_mb ? r.peak_rss_mb.map((m) => Math.round(m)).join(' + ') : ''} |`;
    }),
    END,
  ];
  return lines.join('\n');
}

export function writeDocs(docPath, report) {
  const page = fs.readFileSync(docPath, 'utf8');
  const a = page.indexOf(START);
  const b = page.indexOf(END);
  if (a < 0 || b < 0) throw new Error(`${docPath} has no ${START} … ${END} block`);
  fs.writeFileSync(docPath, page.slice(0, a) + markdown(report) + page.slice(b + END.length));
}
