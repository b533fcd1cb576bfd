/**
 * `hookbridge listen` as a developer runs it: a provider-style POST to the ingest URL reaches a
 * local HTTP server through the listen process, with its headers and body; killing and restarting
 * listen loses nothing and keeps the URL; the local answer shows in the event's attempt log; and
 * where a proxy refuses the WebSocket upgrade, listen long-polls instead.
 *
 * Needs `npm run build` (the CLI runs from bin/hookbridge.js). All traffic stays on 127.0.0.1.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, SERVER_PACKAGE, sleep, startReceiver, startTestServer, waitUntil, type Receiver, type TestServer } from './helpers.js';

let server: TestServer;
let local: Receiver;
const children: ChildProcess[] = [];

beforeAll(async () => {
  [server, local] = await Promise.all([startTestServer(), startReceiver()]);
  local.handle((_req, res) => res.writeHead(201, { 'content-type': 'text/plain' }).end('thanks'));
});
afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await Promise.all([server?.close(), local?.close()]);
});

interface Listener {
  child: ChildProcess;
  lines: any[];
  stderr: () => string;
  ready: { ingest_url: string; endpoint_id: string };
}

async function startListen(args: string[], baseUrl = server.url, key = ADMIN_KEY): Promise<Listener> {
  const child = spawn(process.execPath, [path.join(SERVER_PACKAGE, 'bin', 'hookbridge.js'), 'listen', '--forward-to', local.url, '--json', '--server', baseUrl, '--api-key', key, ...args], {
    env: { ...process.env, HOOKBRIDGE_CONFIG_FILE: path.join(server.dataDir, 'no-cli-config.json') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const lines: any[] = [];
  let buffered = '';
  let stderr = '';
  child.stdout!.on('data', (d) => {
    buffered += d;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) !== -1) {
      lines.push(JSON.parse(buffered.slice(0, nl)));
      buffered = buffered.slice(nl + 1);
    }
  });
  child.stderr!.on('data', (d) => (stderr += d));
  await waitUntil(() => lines.length > 0 || child.exitCode !== null, 15_000, 'the ready line');
  expect(lines[0], stderr).toMatchObject({ type: 'ready', ingest_url: expect.stringContaining('/in/in_'), endpoint_id: expect.stringMatching(/^in_/) });
  return { child, lines, stderr: () => stderr, ready: lines[0] };
}

async function kill(l: Listener): Promise<void> {
  const gone = new Promise((r) => l.child.once('exit', r));
  l.child.kill('SIGKILL');
  await gone;
}

/** A GitHub-style delivery: its own headers, a JSON body. */
async function providerPost(ingestUrl: string, n: number): Promise<string> {
  const body = JSON.stringify({ action: 'opened', number: n });
  const res = await fetch(ingestUrl, { method: 'POST', headers: { 'content-type': 'application/json', 'x-github-event': 'pull_request', 'x-github-delivery': `delivery-${n}` }, body });
  expect(res.status).toBe(202);
  return ((await res.json()) as { id: string }).id;
}

const arrivedAtLocal = (n: number) => local.requests.filter((r) => r.headers['x-github-delivery'] === `delivery-${n}`);

describe.sequential('hookbridge listen', () => {
  it('replays a provider POST to the local server, loses nothing across a kill, and logs the local answer', async () => {
    const first = await startListen([]);
    const id1 = await providerPost(first.ready.ingest_url, 1);
    await waitUntil(() => arrivedAtLocal(1).length === 1, 10_000, 'event 1 at the local server');
    const got = arrivedAtLocal(1)[0];
    expect(got.body).toBe(JSON.stringify({ action: 'opened', number: 1 }));
    expect(got.headers['x-github-event']).toBe('pull_request');
    expect(got.headers['content-type']).toBe('application/json');
    await waitUntil(() => first.lines.some((l) => l.type === 'result' && l.id === id1), 5000, 'the result line');
    expect(first.lines.find((l) => l.type === 'result' && l.id === id1)).toMatchObject({ status_code: 201, latency_ms: expect.any(Number) });

    // The local answer is the event's attempt.
    await waitUntil(async () => (await server.api.get(`/v1/inbound-events/${id1}/attempts`)).body.data.length === 1, 5000, 'the attempt');
    expect((await server.api.get(`/v1/inbound-events/${id1}/attempts`)).body.data[0]).toMatchObject({ status_code: 201, outcome: 'succeeded' });

    // Offline: events wait on the server, and the next run gets them at the same URL.
    await kill(first);
    const offline = [await providerPost(first.ready.ingest_url, 2), await providerPost(first.ready.ingest_url, 3)];
    const second = await startListen([]);
    expect(second.ready).toMatchObject({ ingest_url: first.ready.ingest_url, endpoint_id: first.ready.endpoint_id });
    await waitUntil(() => arrivedAtLocal(2).length >= 1 && arrivedAtLocal(3).length >= 1, 10_000, 'the events sent while listen was down');
    await waitUntil(() => offline.every((id) => second.lines.some((l) => l.type === 'result' && l.id === id)), 5000, 'their results');
    await sleep(300);
    expect(arrivedAtLocal(1)).toHaveLength(1); // acknowledged before the kill: not sent again
    expect(arrivedAtLocal(2)).toHaveLength(1);
    expect(second.lines.filter((l) => l.type === 'event').map((l) => l.id)).toEqual(offline);
    await kill(second);
  });

  it('stops at Ctrl-C without working through its queued backlog; the rest comes on the next run', async () => {
    const first = await startListen(['--name', 'backlog']);
    await kill(first);
    const ids: string[] = [];
    for (let n = 20; n < 28; n++) ids.push(await providerPost(first.ready.ingest_url, n));
    local.handle((_req, res) => setTimeout(() => res.writeHead(201).end('slow'), 300));
    try {
      const l = await startListen(['--name', 'backlog']);
      await waitUntil(() => l.lines.some((x) => x.type === 'result'), 10_000, 'the first result');
      const exited = new Promise<number | null>((r) => l.child.once('exit', (code) => r(code)));
      l.child.kill('SIGINT');
      expect(await exited).toBe(0);
      const reached = () => ids.filter((_, i) => arrivedAtLocal(20 + i).length > 0).length;
      await sleep(1000);
      // The one answered, perhaps the one in flight at Ctrl-C; not the other six.
      expect(reached()).toBeLessThanOrEqual(2);
      const again = await startListen(['--name', 'backlog']);
      await waitUntil(() => reached() === ids.length, 15_000, 'the rest of the backlog');
      await kill(again);
    } finally {
      local.handle((_req, res) => res.writeHead(201, { 'content-type': 'text/plain' }).end('thanks'));
    }
  });

  it('long-polls where a proxy refuses the WebSocket upgrade, and with --transport poll', async () => {
    // A proxy that passes plain HTTP through and answers every upgrade with 502.
    const target = new URL(server.url);
    const proxy = http.createServer((req, res) => {
      const up = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      up.on('error', () => res.destroy());
      req.pipe(up);
    });
    proxy.on('upgrade', (_req, socket) => socket.end('HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n'));
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    try {
      const viaProxy = await startListen(['--name', 'behind-a-proxy'], `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`);
      await waitUntil(() => viaProxy.lines.some((l) => l.type === 'notice' && /long-polling/.test(l.message)), 10_000, 'the fallback notice');
      const id = await providerPost(viaProxy.ready.ingest_url, 10);
      await waitUntil(() => arrivedAtLocal(10).length === 1, 10_000, 'the event through long-polling');
      await waitUntil(async () => (await server.api.get(`/v1/inbound-events/${id}/attempts`)).body.data.length === 1, 5000, 'its attempt');
      await kill(viaProxy);

      const polling = await startListen(['--name', 'polling', '--transport', 'poll']);
      await providerPost(polling.ready.ingest_url, 11);
      await waitUntil(() => arrivedAtLocal(11).length === 1, 10_000, 'the event with --transport poll');
      await kill(polling);
    } finally {
      proxy.closeAllConnections();
      await new Promise((r) => proxy.close(r));
    }
  });

  it('stops, saying why, when its key is revoked while it listens', async () => {
    const key = (await server.api.post('/v1/api-keys', { label: 'listen' })).body;
    const l = await startListen(['--name', 'revoked'], server.url, key.key);
    const exited = new Promise<number | null>((r) => l.child.once('exit', (code) => r(code)));
    expect((await server.api.delete(`/v1/api-keys/${key.id}`)).status).toBe(204);
    expect(await exited).toBe(3);
    expect(l.stderr()).toMatch(/refused the API key/);
  });

  it('stops with a clear message and a non-zero exit code when the key is refused', async () => {
    const child = spawn(process.execPath, [path.join(SERVER_PACKAGE, 'bin', 'hookbridge.js'), 'listen', '--forward-to', local.url, '--server', server.url, '--api-key', 'hb_live_wrong'], {
      env: { ...process.env, HOOKBRIDGE_CONFIG_FILE: path.join(server.dataDir, 'no-cli-config.json') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const code = await new Promise((r) => child.once('exit', r));
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/refused the API key/);
  });
});
