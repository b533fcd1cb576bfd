/**
 * How every command prints: JSON for scripts (--json: the API's JSON and nothing else on stdout),
 * otherwise tables and `key  value` blocks for people. Colours only when the stream is a terminal
 * and NO_COLOR is not set (https://no-color.org), so piped output never carries escape codes.
 * Progress and notices go to stderr, so they never mix with what a script reads from stdout.
 */
import pc from 'picocolors';

type Colors = ReturnType<typeof pc.createColors>;

export function colorsFor(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): Colors {
  const enabled = Boolean(stream.isTTY) && !env.NO_COLOR && env.TERM !== 'dumb';
  return pc.createColors(enabled);
}

export const out = { c: colorsFor(process.stdout), write: (s: string) => void process.stdout.write(s) };
export const err = { c: colorsFor(process.stderr), write: (s: string) => void process.stderr.write(s) };

export function printJson(value: unknown): void {
  out.write(JSON.stringify(value, null, 2) + '\n');
}

/** Prints a notice for people on stderr (never in the way of stdout). */
export function notice(line: string): void {
  err.write(line + '\n');
}

// --- cell formatting ------------------------------------------------------------------------------

const GOOD = new Set(['succeeded', 'active', 'ok', 'forward']);
const BAD = new Set(['failed', 'disabled', 'retry']);
const WAITING = new Set(['pending_retry', 'delivering', 'queued']);
const IDLE = new Set(['paused', 'cancelled']);

/** A status word in its colour: green done, red failed, yellow on its way, dim parked. */
export function status(value: string, c: Colors = out.c): string {
  if (GOOD.has(value)) return c.green(value);
  if (BAD.has(value)) return c.red(value);
  if (WAITING.has(value)) return c.yellow(value);
  if (IDLE.has(value)) return c.dim(value);
  return value;
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** One value as text: null as "-", times without milliseconds, objects as compact JSON. */
export function cell(value: unknown): string {
  if (value === null || value === undefined || value === '') return '-';
  if (typeof value === 'string') return ISO.test(value) ? value.replace(/\.\d+Z$/, 'Z') : value;
  if (Array.isArray(value) && value.length === 0) return '-';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;
const width = (s: string) => s.replace(ANSI, '').length;

function clip(s: string, max: number): string {
  const oneLine = s.replace(/\s+/g, ' ');
  return oneLine.length > max ? oneLine.slice(0, max - 1) + '…' : oneLine;
}

// --- tables -------------------------------------------------------------------------------------

/** A table column: a field name, or a header with a getter. Cells are cut at `max` characters. */
export type Column<T = any> = string | { header: string; get: (row: T) => unknown; max?: number };

const STATUS_FIELDS = new Set(['status', 'outcome', 'mode']);

function columnOf<T>(col: Column<T>): { header: string; get: (row: T) => unknown; max: number; isStatus: boolean } {
  if (typeof col === 'string') return { header: col, get: (row) => (row as Record<string, unknown>)[col], max: 48, isStatus: STATUS_FIELDS.has(col) };
  return { header: col.header, get: col.get, max: col.max ?? 48, isStatus: STATUS_FIELDS.has(col.header) };
}

/** Plain aligned columns (no box drawing: it copies badly into issues and chats). */
export function table<T>(rows: T[], columns: Column<T>[], c: Colors = out.c): string {
  const cols = columns.map(columnOf);
  const body = rows.map((row) =>
    cols.map((col) => {
      const text = clip(cell(col.get(row)), col.max);
      return col.isStatus ? status(text, c) : text;
    }),
  );
  const widths = cols.map((col, i) => Math.max(col.header.length, ...body.map((r) => width(r[i]))));
  const line = (cells: string[]) => cells.map((s, i) => (i === cells.length - 1 ? s : s + ' '.repeat(widths[i] - width(s)))).join('  ').trimEnd();
  return [c.bold(line(cols.map((col) => col.header.toUpperCase()))), ...body.map(line)].join('\n') + '\n';
}

export interface Page<T = unknown> {
  data: T[];
  has_more: boolean;
  next_cursor: string | null;
}

/** A list answer: the JSON as the API sent it, or a table plus a hint on how to get the next page. */
export function printList<T>(page: Page<T>, columns: Column<T>[], json: boolean, what = 'items'): void {
  if (json) return printJson(page);
  if (page.data.length === 0) return notice(`no ${what}`);
  out.write(table(page.data, columns));
  if (page.has_more && page.next_cursor) notice(err.c.dim(`more: add --cursor ${page.next_cursor} (or --all)`));
}

/** One object: its JSON, or its fields as `key  value` lines. */
export function printObject(obj: Record<string, unknown>, json: boolean, title?: string): void {
  if (json) return printJson(obj);
  if (title) out.write(out.c.bold(title) + '\n');
  const keys = Object.keys(obj);
  const pad = Math.max(...keys.map((k) => k.length));
  for (const k of keys) {
    const text = cell(obj[k]);
    out.write(`${out.c.dim(k.padEnd(pad))}  ${STATUS_FIELDS.has(k) ? status(text) : text}\n`);
  }
}

// --- progress -----------------------------------------------------------------------------------

/**
 * A progress bar on stderr. On a terminal it redraws one line; elsewhere (CI logs, tests) it
 * prints a plain line per update, so the progress is still visible without carriage returns.
 */
export function progressBar(
  total: number,
  label: string,
): { update(done: number, extra?: string, newTotal?: number): void; finish(extra?: string): void; clear(): void } {
  const tty = Boolean(process.stderr.isTTY);
  const c = err.c;
  const render = (done: number, extra = '') => {
    const n = total === 0 ? 1 : done / total;
    const bar = '█'.repeat(Math.round(n * 24)).padEnd(24, '░');
    return `${label} ${c.cyan(bar)} ${done}/${total}${extra ? `  ${extra}` : ''}`;
  };
  return {
    /** `newTotal`: the work grew while it ran (a store written to during its backup). */
    update(done, extra, newTotal) {
      if (newTotal !== undefined) total = newTotal;
      err.write(tty ? `\r${render(done, extra)}\u001b[K` : render(done, extra) + '\n');
    },
    finish(extra) {
      err.write(tty ? `\r${render(total, extra)}\u001b[K\n` : render(total, extra) + '\n');
    },
    /** Gives the line back without claiming completion (the work failed); on a terminal only. */
    clear() {
      if (tty) err.write('\r\u001b[K');
    },
  };
}
