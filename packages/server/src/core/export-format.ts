/**
 * The file formats of exports (GET /v1/exports/{id}/download), as pure text functions over the
 * API's JSON shape of each row — the objects the list routes answer:
 * - NDJSON: one such object per line (JSON.stringify escapes line breaks inside strings, so a
 *   line is always one whole row);
 * - CSV (RFC 4180): a header row, then fixed columns per kind; CRLF line ends; a field holding a
 *   comma, a quote, CR or LF is quoted with its quotes doubled; null is an empty field; objects
 *   (inbound headers) are their compact JSON.
 *
 * Spreadsheet formula injection: a text field that begins with = + - @ TAB or CR would be run as
 * a formula by Excel, LibreOffice or Google Sheets when the file is opened (a delivery's
 * last_error or an inbound body comes from third parties). Such fields get a leading `'`, which
 * spreadsheets show as text and drop from the value. Numbers are written as they are. NDJSON is
 * never altered: it is the lossless format.
 */

export const EXPORT_KINDS = ['deliveries', 'inbound-events'] as const;
export const EXPORT_FORMATS = ['csv', 'ndjson'] as const;
export type ExportKind = (typeof EXPORT_KINDS)[number];
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

type Row = Record<string, unknown>;

export interface CsvColumn {
  header: string;
  get: (row: Row) => unknown;
}

const field = (name: string): CsvColumn => ({ header: name, get: (r) => r[name] });
/** The forwarding delivery of an inbound event (null for pull and cli events). */
const ofDelivery = (name: string): CsvColumn => ({ header: `delivery_${name}`, get: (r) => (r.delivery as Row | null | undefined)?.[name] });

export const CSV_COLUMNS: Record<ExportKind, readonly CsvColumn[]> = {
  deliveries: [
    'id', 'message_id', 'endpoint_id', 'consumer_id', 'event_type', 'status', 'attempt_count', 'replay_count',
    'next_attempt_at', 'last_status_code', 'last_error', 'last_attempt_at', 'created_at', 'updated_at',
  ].map(field),
  'inbound-events': [
    ...['id', 'inbound_endpoint_id', 'event_type', 'created_at', 'acked_at', 'source_ip', 'dedupe_key', 'request_id', 'body_encoding', 'body', 'payload_removed_at', 'headers'].map(field),
    ...['id', 'status', 'attempt_count', 'last_status_code'].map(ofDelivery),
  ],
};

const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

/** One CSV field (see the file comment for the rules). */
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text: string;
  if (typeof value === 'string') text = FORMULA_START.test(value) ? `'${value}` : value;
  else if (typeof value === 'object') text = JSON.stringify(value);
  else text = String(value);
  return NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvRecord(values: readonly unknown[]): string {
  return values.map(csvField).join(',') + '\r\n';
}

/** What the file starts with: the CSV header row; nothing for NDJSON. */
export function exportHeader(kind: ExportKind, format: ExportFormat): string {
  return format === 'csv' ? csvRecord(CSV_COLUMNS[kind].map((c) => c.header)) : '';
}

/** One row (the API's JSON of one delivery or inbound event) as a line of the file. */
export function exportLine(kind: ExportKind, format: ExportFormat, row: Row): string {
  return format === 'csv' ? csvRecord(CSV_COLUMNS[kind].map((c) => c.get(row))) : JSON.stringify(row) + '\n';
}

export const EXPORT_CONTENT_TYPES: Record<ExportFormat, string> = {
  csv: 'text/csv; charset=utf-8; header=present',
  ndjson: 'application/x-ndjson',
};

export function exportFileName(kind: ExportKind, format: ExportFormat, id: string): string {
  return `hookbridge-${kind}-${id}.${format}`;
}

const QUOTE = 0x22;
const LF = 0x0a;

/**
 * Counts the rows of an export file as its bytes arrive, chunk by chunk (for a progress bar):
 * NDJSON rows end at each LF; CSV records at each LF outside a quoted field (a doubled quote
 * toggles twice, so it changes nothing), less the header row. UTF-8 never uses these two bytes
 * inside a multi-byte character, so bytes can be counted without decoding.
 */
export function exportRowCounter(format: ExportFormat): { push(chunk: Uint8Array): void; readonly rows: number } {
  let lines = 0;
  let quoted = false;
  return {
    push(chunk) {
      for (let i = 0; i < chunk.length; i++) {
        const b = chunk[i];
        if (b === QUOTE && format === 'csv') quoted = !quoted;
        else if (b === LF && !quoted) lines++;
      }
    },
    get rows() {
      return format === 'csv' ? Math.max(0, lines - 1) : lines;
    },
  };
}
