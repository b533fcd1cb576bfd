/**
 * docs/grafana-dashboard.json cannot rot: it is valid JSON in Grafana's dashboard shape with a
 * Prometheus data source variable, and every metric, label and label value its queries use is
 * one the server exports (read from a real registry, not from a list kept by hand).
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Metrics } from '../src/ops/metrics.js';
import { parsePrometheusText, type Family } from './prometheus-text.js';
import { SERVER_PACKAGE } from './helpers.js';

const DASHBOARD = path.join(SERVER_PACKAGE, '..', '..', 'docs', 'grafana-dashboard.json');
/** Labels Prometheus adds to every scraped series. */
const TARGET_LABELS = new Set(['job', 'instance']);

interface Panel {
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  targets?: Array<{ expr: string; refId: string; datasource?: { type: string; uid: string } }>;
  gridPos: { x: number; y: number; w: number; h: number };
}

async function exported(): Promise<{ families: Map<string, Family>; labelNames: (family: string) => Set<string> }> {
  const metrics = new Metrics();
  const families = parsePrometheusText(await metrics.scrape());
  const labelNames = (family: string) => {
    const own = metrics.registry.getSingleMetric(family) as unknown as { labelNames?: string[] } | undefined;
    const fromSamples = families.get(family)?.samples.flatMap((s) => Object.keys(s.labels)) ?? [];
    return new Set([...(own?.labelNames ?? []), ...fromSamples, ...(families.get(family)?.type === 'histogram' ? ['le'] : [])]);
  };
  return { families, labelNames };
}

/** The family a series name belongs to (histograms expose _bucket, _sum and _count). */
function familyOf(families: Map<string, Family>, series: string): Family | undefined {
  const direct = families.get(series);
  if (direct) return direct;
  const m = /^(.*)_(bucket|sum|count)$/.exec(series);
  const f = m ? families.get(m[1]) : undefined;
  return f && (f.type === 'histogram' || f.type === 'summary') ? f : undefined;
}

describe('docs/grafana-dashboard.json', () => {
  const dashboard = JSON.parse(fs.readFileSync(DASHBOARD, 'utf8'));
  const panels: Panel[] = dashboard.panels;
  const queries = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));

  it('is a Grafana dashboard with a Prometheus data source variable that every query uses', () => {
    expect(dashboard).toMatchObject({ title: 'Hookbridge', uid: expect.any(String), schemaVersion: expect.any(Number) });
    const variables = dashboard.templating.list;
    expect(variables.find((v: { name: string }) => v.name === 'datasource')).toMatchObject({ type: 'datasource', query: 'prometheus' });
    expect(queries.length).toBeGreaterThanOrEqual(12);
    for (const p of panels.filter((x) => x.type !== 'row')) {
      expect(p.datasource, p.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
      for (const t of p.targets ?? []) expect(t.datasource, p.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
    }
    // The panels the operations guide promises.
    const titles = panels.map((p) => p.title).join(' | ');
    for (const t of ['by outcome', 'success ratio', 'Attempt latency', 'Backlog by state', 'Oldest due', 'Ingest requests', 'API latency p99', 'Store query latency', 'Resident memory', 'CPU']) {
      expect(titles).toContain(t);
    }
  });

  it('uses only metrics, labels and label values the server exports', async () => {
    const { families, labelNames } = await exported();
    const used = new Set<string>();
    for (const { panel, expr } of queries) {
      const series = [...expr.matchAll(/\b((?:hookbridge|process|nodejs)_[a-z0-9_]+)\b(\{[^}]*\})?/g)];
      expect(series.length, `${panel}: ${expr}`).toBeGreaterThan(0);
      const labelsInExpr = new Set<string>(['le']);
      for (const [, name, selector] of series) {
        const family = familyOf(families, name);
        expect(family, `${panel}: ${name} is not exported`).toBeDefined();
        used.add(family!.name);
        const known = labelNames(family!.name);
        for (const l of known) labelsInExpr.add(l);
        for (const [, label, op, value] of (selector ?? '').matchAll(/(\w+)\s*(=~|!~|!=|=)\s*"([^"]*)"/g)) {
          if (TARGET_LABELS.has(label)) continue;
          expect(known.has(label), `${panel}: ${name} has no label ${label}`).toBe(true);
          if (op === '=') {
            const values = new Set(family!.samples.map((s) => s.labels[label]).filter(Boolean));
            if (values.size > 0) expect(values.has(value), `${panel}: ${name}{${label}="${value}"} never exported`).toBe(true);
          }
        }
      }
      for (const [, list] of expr.matchAll(/\bby\s*\(([^)]*)\)/g)) {
        for (const label of list.split(',').map((s) => s.trim())) {
          expect(labelsInExpr.has(label) || TARGET_LABELS.has(label), `${panel}: grouped by unknown label ${label}`).toBe(true);
        }
      }
    }
    // Every Hookbridge metric has a panel.
    const ours = [...families.keys()].filter((n) => n.startsWith('hookbridge_'));
    expect(ours.filter((n) => !used.has(n))).toEqual([]);
  });
});
