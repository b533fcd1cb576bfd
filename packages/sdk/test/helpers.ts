/**
 * A real Hookbridge server as a child process (`bin/hookbridge.js serve`, which needs the server
 * built: the root `npm test` builds first) and a receiver that records raw requests. Everything
 * listens on 127.0.0.1 only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SERVER_PACKAGE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'server');
export const ADMIN_KEY = 'hb_test_sdk_admin_key_for_tests_only_0000';

export async function waitFor<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function listenLoopback(server: http.Server, port = 0): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

export interface HookbridgeProcess {
  url: string;
  stop(): Promise<void>;
}

export async function startHookbridge(): Promise<HookbridgeProcess> {
  if (!fs.existsSync(path.join(SERVER_PACKAGE, 'dist', 'cli', 'index.js'))) {
    throw new Error('packages/server is not built: run `npm run build` in the repository root first');
  }
  // A port the OS just handed out and took back: free unless something grabs it in between.
  const probe = http.createServer();
  const port = await listenLoopback(probe);
  await new Promise((r) => probe.close(r));

  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hookbridge-sdk-'));
  const child: ChildProcess = spawn(process.execPath, [path.join(SERVER_PACKAGE, 'bin', 'hookbridge.js'), 'serve'], {
    env: {
      ...process.env,
      HOOKBRIDGE_HOST: '127.0.0.1',
      HOOKBRIDGE_PORT: String(port),
      HOOKBRIDGE_DATA_DIR: dataDir,
      HOOKBRIDGE_BOOTSTRAP_API_KEY: ADMIN_KEY,
      HOOKBRIDGE_ALLOW_PRIVATE_NETWORKS: '127.0.0.0/8,::1/128',
      HOOKBRIDGE_POLL_INTERVAL_MS: '200',
      HOOKBRIDGE_LOG_LEVEL: 'silent',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await gone;
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await waitFor('the server to answer /healthz', async () => {
      if (child.exitCode !== null) throw new Error(`the server exited early:\n${output}`);
      return (await fetch(`${url}/healthz`).catch(() => undefined))?.ok || undefined;
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, stop };
}

export interface ReceivedRequest {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** An HTTP server that answers 200 to everything and keeps what it was sent. */
export async function startReceiver() {
  const received: ReceivedRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
      res.end('ok');
    });
  });
  const port = await listenLoopback(server);
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
