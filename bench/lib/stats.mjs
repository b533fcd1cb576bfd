// Percentiles and rates, shared by the children and the orchestrator.
export function percentiles(values) {
  const v = Float64Array.from(values).sort();
  const at = (q) => (v.length ? v[Math.min(v.length - 1, Math.ceil(q * v.length) - 1)] : null);
  return { n: v.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: v.length ? v[v.length - 1] : null };
}

/** A figure for tables: whole numbers from 100 up, one decimal below. */
export const round = (x) => (x === null || x === undefined ? x : x >= 100 ? Math.round(x) : Math.round(x * 10) / 10);

export const perSecond = (count, ms) => (ms > 0 ? (count * 1000) / ms : 0);

/** A 1 KiB JSON payload (the bench's standard message body). */
export function payloadOf(seq, bytes = 1024) {
  const base = JSON.stringify({ seq, order_id: `o_${seq}`, amount: 4200, currency: 'eur', note: '' });
  return { seq, order_id: `o_${seq}`, amount: 4200, currency: 'eur', note: 'x'.repeat(Math.max(0, bytes - base.length)) };
}
