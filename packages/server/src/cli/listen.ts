/**
 * `hookbridge listen --forward-to http://localhost:3000/webhooks`: receive webhooks on your laptop
 * without a tunnel. It creates (or reuses, by name) a cli-mode inbound endpoint whose ingest URL
 * stays the same across runs, follows its event stream, replays each event to the local URL with
 * the original headers and body, and reports the local answer back so that it shows in the
 * event's attempt log.
 *
 * Nothing is lost while it is not running: the server keeps every event until it is acknowledged,
 * and an event is acknowledged only after the local server answered (or could not be reached).
 * The stream is a WebSocket; where something between here and the server refuses the upgrade,
 * listen falls back to long-polling the same events.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { HookbridgeApiError, HookbridgeNetworkError, type HookbridgeClient } from '@hookbridge/sdk';
import WebSocket from 'ws';
import { apiAction, choice, examples, intOption, jsonOption, withConnection, type Ctx } from './api.js';
import { UsageError } from './config-file.js';
import { err, notice, out } from './output.js';

const DEFAULT_NAME = 'hookbridge listen';
/** Headers that describe the hop to Hookbridge, not the event; fetch sets its own. */
const HOP_HEADERS = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive', 'upgrade', 'expect', 'te', 'trailer']);
const POLL_WAIT_SECONDS = 25;
const MAX_BACKOFF_MS = 30_000;
/** Longer than two of the server's 30-second pings without a word: the connection is dead. */
const SILENCE_MS = 75_000;

interface StreamEvent {
  id: string;
  event_type: string | null;
  headers: Record<string, string>;
  body: string;
  body_encoding?: 'base64';
  created_at: string;
}

/** What the local server answered, as the ack frame and POST …/events/ack carry it. */
interface AckResult {
  id: string;
  status_code: number | null;
  latency_ms: number;
  error?: string;
}

interface ListenOptions {
  forwardTo: string;
  endpoint?: string;
  name: string;
  verify?: Record<string, unknown>;
  verifyPreset?: string;
  verifySecret?: string;
  transport: 'auto' | 'websocket' | 'poll';
  timeoutMs: number;
  json?: boolean;
}

export function registerListen(program: Command): void {
  const cmd = program
    .command('listen')
    .description('Forward webhooks sent to a stable Hookbridge ingest URL to a local server (no tunnel needed).')
    .requiredOption('--forward-to <url>', 'local URL each event is replayed to (POST, original headers and body)', localUrl)
    .option('--endpoint <id>', 'use this cli-mode inbound endpoint (in_…) instead of the one found by --name')
    .option('--name <name>', 'name of the cli-mode inbound endpoint to reuse or create', DEFAULT_NAME)
    .option('--verify <json>', 'verification of a created endpoint, as in the API, e.g. \'{"type":"stripe","secret":"whsec_…"}\' (default: none)', jsonOption('--verify'))
    .option('--verify-preset <type>', 'shortcut for --verify: the preset (stripe, github, shopify, slack, standard, hmac, token, …)')
    .option('--verify-secret <secret>', 'with --verify-preset: its secret')
    .addOption(choice('--transport <t>', 'auto: WebSocket, long-polling when that is blocked', ['auto', 'websocket', 'poll']).default('auto'))
    .option('--timeout-ms <n>', 'how long the local server may take to answer', intOption('--timeout-ms', 1, 600_000), 10_000);
  withConnection(cmd)
    .addHelpText(
      'after',
      `
With --json, one JSON object per line: first {"type":"ready","ingest_url":…,"endpoint_id":…}, then
{"type":"event",…} and {"type":"result","id":…,"status_code":…,"latency_ms":…} for each event.
Events that arrive while listen is not running are delivered when it starts again.` +
        examples(
          'hookbridge listen --forward-to http://localhost:3000/webhooks',
          'hookbridge listen --forward-to http://localhost:3000/stripe --name stripe-dev --verify-preset stripe --verify-secret whsec_…',
          'hookbridge listen --forward-to http://localhost:3000/hooks --json | jq .',
        ),
    )
    .action(apiAction(async (ctx, _args, opts) => listen(ctx, opts as ListenOptions)));
}

async function listen(ctx: Ctx, opts: ListenOptions): Promise<void> {
  const endpoint = await findOrCreateEndpoint(ctx.client, opts);
  const say = lineWriter(ctx.json);
  say.ready(endpoint.ingest_url, endpoint.id, opts.forwardTo);

  const stopped = new AbortController();
  const stop = () => stopped.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);

  const replay = async (event: StreamEvent): Promise<AckResult> => {
    say.event(event);
    const result = await replayLocally(event, opts.forwardTo, opts.timeoutMs);
    say.result(event, result);
    return result;
  };

  let transport = opts.transport === 'poll' ? 'poll' : 'websocket';
  let failures = 0;
  while (!stopped.signal.aborted) {
    const ended = transport === 'websocket' ? await streamOverWebSocket(ctx, endpoint.id, replay, stopped.signal) : await streamByPolling(ctx.client, endpoint.id, replay, stopped.signal);
    if (stopped.signal.aborted) break;
    if (ended.kind === 'refused') throw ended.error;
    if (ended.kind === 'blocked' && opts.transport === 'auto') {
      say.notice(`WebSocket upgrade refused (${ended.reason}); long-polling instead`);
      transport = 'poll';
      continue;
    }
    failures = ended.kind === 'worked' ? 1 : failures + 1;
    const wait = Math.min(MAX_BACKOFF_MS, 500 * 2 ** Math.min(failures - 1, 6)) * (0.8 + Math.random() * 0.4);
    say.notice(`disconnected (${ended.reason}); reconnecting in ${(wait / 1000).toFixed(1)} s`);
    await sleep(wait, stopped.signal);
  }
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
}

// --- the endpoint --------------------------------------------------------------------------------

interface InboundEndpoint {
  id: string;
  name: string;
  mode: string;
  ingest_url: string;
}

async function findOrCreateEndpoint(client: HookbridgeClient, opts: ListenOptions): Promise<InboundEndpoint> {
  if (opts.endpoint) {
    const e = await client.request<InboundEndpoint>('GET', `/v1/inbound-endpoints/${encodeURIComponent(opts.endpoint)}`);
    if (e.mode !== 'cli') throw new UsageError(`${e.id} is a ${e.mode}-mode endpoint; listen needs a cli-mode one (or leave out --endpoint to get one)`);
    return e;
  }
  for await (const e of client.paginate<InboundEndpoint>('/v1/inbound-endpoints', { limit: 250 })) {
    if (e.mode === 'cli' && e.name === opts.name) return e;
  }
  return client.request<InboundEndpoint>('POST', '/v1/inbound-endpoints', { body: { name: opts.name, mode: 'cli', verification: verificationOf(opts) } });
}

function verificationOf(opts: ListenOptions): Record<string, unknown> {
  if (opts.verify) return opts.verify;
  if (opts.verifyPreset) return { type: opts.verifyPreset, ...(opts.verifySecret ? { secret: opts.verifySecret } : {}) };
  if (opts.verifySecret) throw new UsageError('--verify-secret needs --verify-preset');
  return { type: 'none' };
}

// --- replaying to the local server ---------------------------------------------------------------

async function replayLocally(event: StreamEvent, url: string, timeoutMs: number): Promise<AckResult> {
  const headers = Object.fromEntries(Object.entries(event.headers).filter(([name]) => !HOP_HEADERS.has(name.toLowerCase())));
  const body = event.body_encoding === 'base64' ? Buffer.from(event.body, 'base64') : event.body;
  const started = performance.now();
  try {
    const res = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
    await res.arrayBuffer().catch(() => undefined);
    return { id: event.id, status_code: res.status, latency_ms: Math.round(performance.now() - started) };
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    const why = (e as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (cause?.message ?? (e as Error).message);
    return { id: event.id, status_code: null, latency_ms: Math.round(performance.now() - started), error: why };
  }
}

// --- transports ----------------------------------------------------------------------------------

type Ended =
  /** worked: it was connected (or stopped on purpose); failed: it never got going. */
  | { kind: 'worked' | 'failed'; reason: string }
  /** The upgrade got an HTTP answer that is not about the key or the endpoint: a proxy in the way. */
  | { kind: 'blocked'; reason: string }
  /** The server said no for good (bad key, endpoint gone): stop. */
  | { kind: 'refused'; error: Error };

type Replay = (event: StreamEvent) => Promise<AckResult>;

function streamOverWebSocket(ctx: Ctx, endpointId: string, replay: Replay, stopped: AbortSignal): Promise<Ended> {
  const url = `${ctx.conn.url.replace(/^http/, 'ws')}/v1/inbound-endpoints/${encodeURIComponent(endpointId)}/stream`;
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${ctx.conn.apiKey}` } });
    let opened = false;
    let closed = false;
    // One event at a time, in the order they come: the local server sees them as they were sent.
    let line = Promise.resolve();
    const onStop = () => ws.close(1000, 'bye');
    stopped.addEventListener('abort', onStop, { once: true });
    // The server pings every 30 s; silence for longer than two of those is a dead connection
    // (sleep, a NAT that forgot it) that no FIN will ever announce.
    let watchdog: NodeJS.Timeout | undefined;
    const heard = () => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => ws.terminate(), SILENCE_MS);
    };
    const end = (e: Ended) => {
      clearTimeout(watchdog);
      stopped.removeEventListener('abort', onStop);
      resolve(e);
    };
    ws.on('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d));
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        const body = parseError(text);
        if ([401, 403, 404, 409].includes(status)) end({ kind: 'refused', error: new HookbridgeApiError({ status, code: body?.code ?? `http_${status}`, message: body?.message ?? `HTTP ${status}` }) });
        // Hookbridge itself saying "not now" (503 while it restarts, 429): try the WebSocket again.
        else if (body?.code) end({ kind: 'failed', reason: `HTTP ${status} ${body.code}` });
        // Anything else answered the upgrade: a proxy in the way.
        else end({ kind: 'blocked', reason: `HTTP ${status}` });
        ws.terminate();
      });
    });
    ws.on('open', () => {
      opened = true;
      heard();
    });
    ws.on('ping', heard);
    ws.on('message', (data) => {
      heard();
      let frame: { type?: string } & Partial<StreamEvent> & { code?: string; message?: string };
      try {
        frame = JSON.parse(data.toString());
      } catch {
        return;
      }
      if (frame.type === 'error') return void notice(`hookbridge: the server says ${frame.code}: ${frame.message}`);
      if (frame.type !== 'event' || typeof frame.id !== 'string') return;
      const event = frame as StreamEvent;
      line = line.then(async () => {
        // Once the connection is gone its ack could not be sent: the event comes again on the
        // next connection, so replaying it now would only make a duplicate.
        if (closed || stopped.aborted) return;
        const result = await replay(event);
        if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'ack', ...result }));
      });
    });
    ws.on('error', () => undefined); // 'close' follows and says what happened
    ws.on('close', (code, reason) => {
      closed = true;
      const why = reason.toString();
      // The server ends a stream whose key was revoked (4401) or whose endpoint went away (4404).
      if (code === 4401 || code === 4404) {
        const status = code === 4401 ? 401 : 404;
        return void line.then(() => end({ kind: 'refused', error: new HookbridgeApiError({ status, code: why || `http_${status}`, message: code === 4401 ? 'the API key was revoked' : 'the inbound endpoint was deleted' }) }));
      }
      void line.then(() => end({ kind: opened ? 'worked' : 'failed', reason: opened ? `closed ${code}${why ? ` ${why}` : ''}` : 'cannot connect' }));
    });
  });
}

async function streamByPolling(client: HookbridgeClient, endpointId: string, replay: Replay, stopped: AbortSignal): Promise<Ended> {
  const path = `/v1/inbound-endpoints/${encodeURIComponent(endpointId)}`;
  let worked = false;
  try {
    while (!stopped.aborted) {
      // Unacknowledged events only, so there is no cursor to keep: what was acknowledged is gone.
      const page = await client.request<{ data: StreamEvent[] }>('GET', `${path}/events`, { query: { wait: POLL_WAIT_SECONDS, limit: 50 }, signal: stopped });
      worked = true;
      if (page.data.length === 0) continue;
      const results: AckResult[] = [];
      for (const event of page.data) results.push(await replay(event));
      await client.request('POST', `${path}/events/ack`, { body: { results } });
    }
    return { kind: 'worked', reason: 'stopped' };
  } catch (e) {
    if (stopped.aborted) return { kind: 'worked', reason: 'stopped' };
    if (e instanceof HookbridgeApiError && [401, 403, 404, 409].includes(e.status)) return { kind: 'refused', error: e };
    if (e instanceof HookbridgeNetworkError || e instanceof HookbridgeApiError) return { kind: worked ? 'worked' : 'failed', reason: e.message };
    throw e;
  }
}

// --- output --------------------------------------------------------------------------------------

function lineWriter(json: boolean) {
  const emit = (obj: Record<string, unknown>) => out.write(JSON.stringify(obj) + '\n');
  const time = () => new Date().toISOString().slice(11, 19);
  const c = out.c;
  return {
    ready(ingestUrl: string, endpointId: string, forwardTo: string) {
      if (json) return emit({ type: 'ready', ingest_url: ingestUrl, endpoint_id: endpointId, forward_to: forwardTo });
      out.write(`${c.green('Ready.')} Send webhooks to ${c.bold(ingestUrl)}\n  (endpoint ${endpointId}); each is replayed to ${forwardTo}. Ctrl-C stops.\n`);
    },
    event(e: StreamEvent) {
      if (json) emit({ type: 'event', id: e.id, event_type: e.event_type, created_at: e.created_at });
    },
    result(e: StreamEvent, r: AckResult) {
      if (json) return emit({ type: 'result', ...r });
      const ok = r.status_code !== null && r.status_code >= 200 && r.status_code < 300;
      const status = r.status_code === null ? c.red(`error: ${r.error}`) : ok ? c.green(String(r.status_code)) : c.red(String(r.status_code));
      out.write(`${time()}  POST  ${status}  ${String(r.latency_ms).padStart(5)} ms  ${e.event_type ?? '-'}  ${c.dim(e.id)}\n`);
    },
    notice(line: string) {
      if (json) return emit({ type: 'notice', message: line });
      err.write(`${err.c.yellow('·')} ${line}\n`);
    },
  };
}

// --- small things --------------------------------------------------------------------------------

function parseError(text: string): { code?: string; message?: string } | undefined {
  try {
    return (JSON.parse(text) as { error?: { code?: string; message?: string } }).error;
  } catch {
    return undefined;
  }
}

function localUrl(raw: string): string {
  try {
    const u = new URL(raw);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http(s)');
    return u.toString();
  } catch {
    throw new InvalidArgumentError('--forward-to must be an http(s) URL, e.g. http://localhost:3000/webhooks.');
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });
}
