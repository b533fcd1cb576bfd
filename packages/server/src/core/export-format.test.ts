import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../test/csv.js';
import { CSV_COLUMNS, csvField, csvRecord, exportFileName, exportHeader, exportLine, exportRowCounter } from './export-format.js';

describe('csvField', () => {
  it('quotes fields holding a comma, a quote, CR or LF, doubling quotes; leaves others bare', () => {
    expect(csvField('plain text')).toBe('plain text');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('cr\rhere')).toBe('"cr\rhere"');
    expect(csvField('')).toBe('');
  });

  it('writes null as an empty field, numbers and booleans as text, objects as compact JSON', () => {
    expect(csvField(null)).toBe('');
    expect(csvField(undefined)).toBe('');
    expect(csvField(429)).toBe('429');
    expect(csvField(false)).toBe('false');
    expect(csvField({ 'content-type': 'application/json', b: 'x,y' })).toBe('"{""content-type"":""application/json"",""b"":""x,y""}"');
  });

  it('neutralises text that a spreadsheet would run as a formula with a leading quote', () => {
    for (const formula of ['=HYPERLINK("http://x")', '+1+1', '-2+3', '@SUM(A1)', '\tcmd', '\rcmd']) {
      const [[cell]] = parseCsv(csvField(formula) + '\r\n');
      expect(cell).toBe(`'${formula}`);
    }
    expect(csvField('a=b')).toBe('a=b');
    expect(csvField(-5)).toBe('-5');
  });
});

describe('export lines', () => {
  const delivery = {
    id: 'dlv_1',
    message_id: 'msg_1',
    endpoint_id: 'ep_1',
    consumer_id: null,
    event_type: 'order.paid',
    status: 'failed',
    attempt_count: 3,
    replay_count: 0,
    next_attempt_at: null,
    last_status_code: 500,
    last_error: 'endpoint said: "no",\r\nthen =cmd',
    last_attempt_at: '2026-01-31T00:00:00.000Z',
    created_at: '2026-01-30T00:00:00.000Z',
    updated_at: '2026-01-31T00:00:00.000Z',
  };

  it('CSV: the header row, then one record per row that reads back to the same values', () => {
    const text = exportHeader('deliveries', 'csv') + exportLine('deliveries', 'csv', delivery) + exportLine('deliveries', 'csv', { ...delivery, id: 'dlv_2', last_error: '=1+1' });
    const [header, first, second] = parseCsv(text);
    expect(header).toEqual(Object.keys(delivery));
    expect(Object.fromEntries(header.map((h, i) => [h, first[i]]))).toEqual({
      ...delivery,
      consumer_id: '',
      next_attempt_at: '',
      attempt_count: '3',
      replay_count: '0',
      last_status_code: '500',
    });
    expect(second[header.indexOf('last_error')]).toBe("'=1+1");
  });

  it('CSV of inbound events: headers as JSON, the forwarding delivery flattened, absent ones empty', () => {
    const event = { id: 'ie_1', inbound_endpoint_id: 'in_1', event_type: null, headers: { 'x-a': '1' }, body: 'a,b', body_encoding: 'base64', source_ip: '127.0.0.1', dedupe_key: null, acked_at: null, created_at: 't', delivery: { id: 'dlv_9', status: 'succeeded', attempt_count: 1, last_status_code: 200 } };
    const [header, row, pulled] = parseCsv(exportHeader('inbound-events', 'csv') + exportLine('inbound-events', 'csv', event) + exportLine('inbound-events', 'csv', { ...event, body_encoding: undefined, delivery: null }));
    expect(header).toEqual(CSV_COLUMNS['inbound-events'].map((c) => c.header));
    const get = (r: string[], h: string) => r[header.indexOf(h)];
    expect(get(row, 'headers')).toBe('{"x-a":"1"}');
    expect(get(row, 'body')).toBe('a,b');
    expect(get(row, 'delivery_id')).toBe('dlv_9');
    expect(get(row, 'delivery_last_status_code')).toBe('200');
    expect(get(pulled, 'delivery_id')).toBe('');
    expect(get(pulled, 'body_encoding')).toBe('');
  });

  it('NDJSON: no header, and each row is exactly its JSON on one line', () => {
    expect(exportHeader('deliveries', 'ndjson')).toBe('');
    const line = exportLine('deliveries', 'ndjson', delivery);
    expect(line.endsWith('\n')).toBe(true);
    expect(line.slice(0, -1)).not.toContain('\n');
    expect(line).toBe(JSON.stringify(delivery) + '\n');
  });

  it('names files after kind, id and format', () => {
    expect(exportFileName('inbound-events', 'ndjson', 'exp_1')).toBe('hookbridge-inbound-events-exp_1.ndjson');
  });
});

describe('exportRowCounter', () => {
  const bytes = (s: string) => new TextEncoder().encode(s);

  it('counts CSV rows (not the header), ignoring line breaks inside quoted fields, across chunk boundaries', () => {
    const text = csvRecord(['id', 'note']) + csvRecord(['1', 'two\r\nlines "quoted"']) + csvRecord(['2', 'ünïcödé, fine']) + csvRecord(['3', '\n']);
    const data = bytes(text);
    for (const size of [1, 2, 3, 7, data.length]) {
      const counter = exportRowCounter('csv');
      for (let i = 0; i < data.length; i += size) counter.push(data.subarray(i, i + size));
      expect(counter.rows, `chunks of ${size}`).toBe(3);
    }
    expect(exportRowCounter('csv').rows).toBe(0);
  });

  it('counts NDJSON lines', () => {
    const counter = exportRowCounter('ndjson');
    counter.push(bytes('{"a":"x\\ny"}\n{"a'));
    counter.push(bytes('":"\\""}\n'));
    expect(counter.rows).toBe(2);
  });
});
