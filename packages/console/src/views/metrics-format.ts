/** How the metrics views write rates, latencies and windows. */
import type { MetricsWindow } from '../types';

export const WINDOWS: { value: MetricsWindow; label: string; long: string }[] = [
  { value: '1h', label: '1 h', long: 'the last hour' },
  { value: '24h', label: '24 h', long: 'the last 24 hours' },
  { value: '7d', label: '7 d', long: 'the last 7 days' },
];

export function readWindow(query: URLSearchParams): MetricsWindow {
  const w = query.get('window');
  return WINDOWS.some((x) => x.value === w) ? (w as MetricsWindow) : '24h';
}

/** 0.987 → "98.7%"; whole numbers at both ends ("100%", "0%"); null → "—". */
export function percent(rate: number | null | undefined): string {
  if (rate === null || rate === undefined) return '—';
  const p = rate * 100;
  return `${p === 100 || p === 0 ? p.toFixed(0) : p.toFixed(1)}%`;
}

export function millis(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}

/** A health colour for a success rate: the badge classes of styles.css. */
export function rateTone(rate: number | null): 'ok' | 'warn' | 'bad' | 'muted' {
  if (rate === null) return 'muted';
  return rate >= 0.99 ? 'ok' : rate >= 0.9 ? 'warn' : 'bad';
}
