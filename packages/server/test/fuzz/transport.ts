/**
 * How the fuzzer talks to the server: requests through undici (checked against the oracle and
 * tallied), raw bytes over a socket for the framing property and the regression tests, and the
 * heap measure (after a forced GC) that bounds the server's memory across the run.
 */
import net from 'node:net';
import v8 from 'node:v8';
import vm from 'node:vm';
import { request } from 'undici';
import { describeRequest, MAX_PAYLOAD, problemWith, type FuzzRequest, type FuzzResponse } from './oracle.js';
import { ctx, heapSamples, stats, tally } from './state.js';

export async function send(r: FuzzRequest): Promise<FuzzResponse> {
  const res = await request(ctx.server.url + r.path, { method: r.method as 'GET', headers: r.headers, body: r.body, dispatcher: ctx.agent });
  return { status: res.statusCode, headers: res.headers, body: Buffer.from(await res.body.arrayBuffer()) };
}

/** Sends, checks, tallies; throws (so fast-check reports and shrinks) on any violation. */
export async function sendAndCheck(r: FuzzRequest, ingest: boolean): Promise<FuzzResponse> {
  let res: FuzzResponse;
  try {
    res = await send(r);
  } catch (err) {
    const e = err as Error & { code?: string };
    // A body far over the limit may be cut off once the 413 is on its way; anything else (a
    // timeout, a reset) is a defect.
    if ((r.body?.length ?? 0) > MAX_PAYLOAD && /other side closed|ECONNRESET|EPIPE/.test(`${e.code} ${e.message}`)) {
      tally(r.route, 'reset');
      return { status: 0, headers: {}, body: Buffer.alloc(0) };
    }
    throw new Error(`no answer (${e.code ?? e.name}: ${e.message}) to\n${describeRequest(r)}`);
  }
  const problem = problemWith(res, r.method, ingest);
  tally(r.route, res.status, problem);
  if (problem) throw new Error(`${problem}\nfor\n${describeRequest(r)}`);
  return res;
}

// --- raw HTTP -------------------------------------------------------------------------------------

/** Sends raw bytes; resolves with the first complete answer, or what came before the socket closed. */
export function sendRaw(bytes: Buffer, incomplete: boolean): Promise<{ res: FuzzResponse | null; data: Buffer; timedOut: boolean }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const sock = net.connect(Number(new URL(ctx.server.url).port), '127.0.0.1');
    const done = (timedOut: boolean) => {
      clearTimeout(leave);
      clearTimeout(giveUp);
      sock.destroy();
      const data = Buffer.concat(chunks);
      resolve({ res: parseRaw(data, true), data, timedOut });
    };
    // An incomplete request gets no answer until the client gives up on it: do so after a while.
    const leave = setTimeout(() => incomplete && !parseRaw(Buffer.concat(chunks), false) && sock.end(), 300);
    const giveUp = setTimeout(() => done(true), 10_000);
    sock.on('data', (c) => {
      chunks.push(c);
      if (parseRaw(Buffer.concat(chunks), false)) done(false);
    });
    sock.on('error', () => undefined);
    sock.on('close', () => done(false));
    sock.write(bytes);
  });
}

/** The first final answer in `data` (101 Switching Protocols counts), once complete or `closed`. */
function parseRaw(data: Buffer, closed: boolean): FuzzResponse | null {
  // Interim answers (100 Continue) come first.
  while (/^HTTP\/1\.[01] 1(0[02-9]|[1-9]\d) /.test(data.subarray(0, 16).toString('latin1')) && data.indexOf('\r\n\r\n') > 0) data = data.subarray(data.indexOf('\r\n\r\n') + 4);
  const end = data.indexOf('\r\n\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(data.subarray(0, 16).toString('latin1'));
  if (end < 0 || !m) return null;
  const headers: Record<string, string> = {};
  for (const line of data.subarray(0, end).toString('latin1').split('\r\n').slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  const body = data.subarray(end + 4);
  const length = headers['content-length'] === undefined ? null : Number(headers['content-length']);
  const complete = m[1] === '101' || (length !== null && body.length >= length);
  if (!complete && !closed) return null;
  return { status: Number(m[1]), headers, body: length === null ? body : body.subarray(0, length) };
}

/** Sends raw bytes and waits (up to 3 s) for the server to answer and close the connection. */
export function exchange(text: string): Promise<{ res: FuzzResponse | null; closedByServer: boolean }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const sock = net.connect(Number(new URL(ctx.server.url).port), '127.0.0.1');
    const finish = (closedByServer: boolean) => {
      clearTimeout(timer);
      sock.destroy();
      resolve({ res: parseRaw(Buffer.concat(chunks), true), closedByServer });
    };
    const timer = setTimeout(() => finish(false), 3000);
    sock.on('data', (c) => chunks.push(c));
    sock.on('error', () => undefined);
    sock.on('close', () => finish(true));
    sock.write(text);
  });
}

// --- memory ---------------------------------------------------------------------------------------

/** global.gc when the process has it, else the one --expose-gc hands to a new context. */
function gcFunction(): (() => void) | null {
  const g = (globalThis as { gc?: () => void }).gc;
  if (typeof g === 'function') return g;
  try {
    v8.setFlagsFromString('--expose-gc');
    return vm.runInNewContext('gc') as () => void;
  } catch {
    return null;
  }
}

export const gc = gcFunction();

/** The heap after a full GC (or RSS when no GC can be forced: a weaker measure, so a larger bound). */
function memoryNow(): number {
  if (!gc) return process.memoryUsage().rss;
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

export function sampleMemory() {
  ctx.receiver.requests.length = 0; // what the receiver kept is the test's memory, not the server's
  heapSamples.push({ after: stats.api + stats.ingest + stats.raw, heap_mib: Math.round((memoryNow() / 1048576) * 10) / 10 });
}
