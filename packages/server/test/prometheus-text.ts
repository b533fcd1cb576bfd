/**
 * A strict parser of the Prometheus text exposition format (version 0.0.4), so tests prove that
 * /metrics is what a Prometheus server accepts — not merely that some numbers appear in it.
 * It refuses: a sample outside a declared family (a TYPE line before it), a family declared twice
 * or whose samples are not together, duplicate series, malformed names, labels, escapes or values,
 * histograms whose buckets are not cumulative or lack +Inf = _count, and text not ending in \n.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: MetricType;
  help: string | null;
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set<MetricType>(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function fail(lineNo: number, line: string, why: string): never {
  throw new Error(`Prometheus text, line ${lineNo}: ${why}: ${JSON.stringify(line)}`);
}

/** Values as Prometheus reads them (Go's ParseFloat: NaN and Inf in any case). */
function parseValue(text: string, lineNo: number, line: string): number {
  if (/^nan$/i.test(text)) return NaN;
  if (/^\+?inf(inity)?$/i.test(text)) return Infinity;
  if (/^-inf(inity)?$/i.test(text)) return -Infinity;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) fail(lineNo, line, `bad value ${text}`);
  return Number(text);
}

/** Parses `{a="x",b="y"}` starting at `i` (at the `{`); returns the labels and the index after `}`. */
function parseLabels(line: string, i: number, lineNo: number): [Record<string, string>, number] {
  const labels: Record<string, string> = {};
  i++; // {
  while (line[i] !== '}') {
    const eq = line.indexOf('=', i);
    if (eq < 0) fail(lineNo, line, 'label without =');
    const name = line.slice(i, eq);
    if (!LABEL_NAME.test(name)) fail(lineNo, line, `bad label name ${name}`);
    if (name in labels) fail(lineNo, line, `label ${name} twice`);
    if (line[eq + 1] !== '"') fail(lineNo, line, 'label value not quoted');
    let value = '';
    let j = eq + 2;
    for (;;) {
      const c = line[j];
      if (c === undefined) fail(lineNo, line, 'unterminated label value');
      if (c === '"') break;
      if (c === '\\') {
        const next = line[j + 1];
        if (next === 'n') value += '\n';
        else if (next === '\\' || next === '"') value += next;
        else fail(lineNo, line, 'bad escape in label value');
        j += 2;
        continue;
      }
      value += c;
      j++;
    }
    labels[name] = value;
    i = j + 1;
    if (line[i] === ',') i++;
    else if (line[i] !== '}') fail(lineNo, line, 'expected , or } after a label');
  }
  return [labels, i + 1];
}

/** Which family a sample name belongs to, given the family's type. */
function belongs(sample: string, family: Family): boolean {
  if (family.type === 'histogram') return [`${family.name}_bucket`, `${family.name}_sum`, `${family.name}_count`].includes(sample);
  if (family.type === 'summary') return [family.name, `${family.name}_sum`, `${family.name}_count`].includes(sample);
  return sample === family.name;
}

export function parsePrometheusText(text: string): Map<string, Family> {
  if (text.length > 0 && !text.endsWith('\n')) throw new Error('Prometheus text must end with a newline');
  const families = new Map<string, Family>();
  const helps = new Map<string, string>();
  const series = new Set<string>();
  let current: Family | null = null;
  const lines = text.split('\n');
  lines.pop();
  lines.forEach((line, index) => {
    const lineNo = index + 1;
    if (line.trim() === '') return;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line);
      if (!m) return; // a plain comment
      const [, kind, name, rest = ''] = m;
      if (!METRIC_NAME.test(name)) fail(lineNo, line, `bad metric name ${name}`);
      if (kind === 'HELP') {
        if (helps.has(name)) fail(lineNo, line, 'second HELP');
        if (/\\[^n\\]/.test(rest.replace(/\\\\/g, ''))) fail(lineNo, line, 'bad escape in HELP');
        helps.set(name, rest);
        return;
      }
      if (!TYPES.has(rest as MetricType)) fail(lineNo, line, `unknown type ${rest}`);
      if (families.has(name)) fail(lineNo, line, 'family declared twice');
      current = { name, type: rest as MetricType, help: helps.get(name) ?? null, samples: [] };
      families.set(name, current);
      return;
    }
    const nameEnd = line.search(/[{ ]/);
    if (nameEnd <= 0) fail(lineNo, line, 'sample without value');
    const name = line.slice(0, nameEnd);
    if (!METRIC_NAME.test(name)) fail(lineNo, line, `bad metric name ${name}`);
    let labels: Record<string, string> = {};
    let i = nameEnd;
    if (line[i] === '{') [labels, i] = parseLabels(line, i, lineNo);
    if (line[i] !== ' ') fail(lineNo, line, 'expected a space before the value');
    const parts = line.slice(i + 1).split(' ');
    if (parts.length < 1 || parts.length > 2) fail(lineNo, line, 'expected a value and an optional timestamp');
    if (parts.length === 2 && !/^-?\d+$/.test(parts[1])) fail(lineNo, line, 'bad timestamp');
    const value = parseValue(parts[0], lineNo, line);
    const family = current as Family | null;
    if (!family || !belongs(name, family)) fail(lineNo, line, 'sample outside its declared family (or families interleaved)');
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (series.has(key)) fail(lineNo, line, 'duplicate series');
    series.add(key);
    if (family.type === 'counter' && !(value >= 0)) fail(lineNo, line, 'counter below zero');
    family.samples.push({ name, labels, value });
  });
  for (const [name] of helps) if (!families.has(name)) throw new Error(`HELP for ${name} without a TYPE`);
  for (const f of families.values()) if (f.type === 'histogram') checkHistogram(f);
  return families;
}

/** Buckets per label set ascend in le, are cumulative, end with +Inf, and +Inf equals _count. */
function checkHistogram(f: Family): void {
  const groups = new Map<string, { buckets: Array<[number, number]>; count?: number; sum?: number }>();
  for (const s of f.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    const g = groups.get(key) ?? { buckets: [] };
    groups.set(key, g);
    if (s.name.endsWith('_bucket')) {
      if (le === undefined) throw new Error(`${f.name}: bucket without le`);
      g.buckets.push([le === '+Inf' ? Infinity : Number(le), s.value]);
    } else if (s.name.endsWith('_count')) g.count = s.value;
    else g.sum = s.value;
  }
  for (const [key, g] of groups) {
    const where = `${f.name}${key}`;
    if (g.count === undefined || g.sum === undefined) throw new Error(`${where}: _count or _sum missing`);
    if (g.buckets.length === 0 || g.buckets[g.buckets.length - 1][0] !== Infinity) throw new Error(`${where}: no +Inf bucket last`);
    for (let i = 1; i < g.buckets.length; i++) {
      if (!(g.buckets[i][0] > g.buckets[i - 1][0])) throw new Error(`${where}: buckets not ascending`);
      if (g.buckets[i][1] < g.buckets[i - 1][1]) throw new Error(`${where}: buckets not cumulative`);
    }
    if (g.buckets[g.buckets.length - 1][1] !== g.count) throw new Error(`${where}: +Inf bucket differs from _count`);
  }
}

/** The value of one series, or undefined. `labels` must match the series' labels exactly. */
export function sampleValue(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number | undefined {
  const familyName = name.replace(/_(bucket|sum|count)$/, '');
  const family = families.get(name) ?? families.get(familyName);
  const want = JSON.stringify(Object.entries(labels).sort());
  return family?.samples.find((s) => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === want)?.value;
}
