/**
 * The embedded server's control socket, `<data dir>/control.sock`: how `hookbridge backup` asks a
 * running server for a copy of its store. The server holds an exclusive lock on hookbridge.db, so
 * only its own connection can read the store (store/backup.ts); the CLI cannot copy it itself.
 *
 * A Unix socket, mode 0600 in the data dir (0700): only the server's user can connect, and that
 * user can read the data dir anyway, so the socket grants nothing new. Requests and answers are
 * one JSON object per line: `{"op":"backup","file":"/abs/path","force":false}`, answered by
 * `progress` lines and one `done` or `error` line.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Logger } from 'pino';
import { isStoreFile, type BackupResult } from '../store/backup.js';
import type { Store } from '../store/store.js';

export const controlSocketPath = (dataDir: string) => path.join(dataDir, 'control.sock');

/** sun_path holds 108 bytes on Linux, 104 on macOS, the terminating NUL included. */
const MAX_SOCKET_PATH_BYTES = 103;
const MAX_REQUEST_BYTES = 64 * 1024;
const PROGRESS_EVERY_MS = 200;

export interface BackupRequest {
  op: 'backup';
  /** Absolute path, as the server's file system sees it. */
  file: string;
  force?: boolean;
}

export type ControlReply =
  | { type: 'progress'; done: number; total: number }
  | { type: 'done'; result: BackupResult; ms: number }
  | { type: 'error'; code: 'exists' | 'busy' | 'invalid_request' | 'failed'; message: string };

export class ControlSocket {
  private running: { abort: AbortController; done: Promise<unknown> } | null = null;
  private readonly connections = new Set<net.Socket>();

  private constructor(
    private readonly server: net.Server,
    private readonly dataDir: string,
    private readonly file: string,
    private readonly store: Store,
    private readonly log: Logger,
  ) {}

  /** Listens on the data dir's socket; null (and a warning) where that is impossible. */
  static async listen(dataDir: string, store: Store, log: Logger): Promise<ControlSocket | null> {
    const file = controlSocketPath(dataDir);
    // The socket is first bound under a temporary name beside it (below), which must fit too.
    const temporary = `${file}.${process.pid}`;
    if (Buffer.byteLength(temporary) > MAX_SOCKET_PATH_BYTES) {
      log.warn({ path: file }, 'data dir path too long for a Unix socket: online backups need a shorter HOOKBRIDGE_DATA_DIR (or stop the server to back up)');
      return null;
    }
    let control: ControlSocket | undefined;
    const server = net.createServer((conn) => control!.serve(conn));
    // Listen under a temporary name and make it private before it appears under its real name, so
    // that no other user can connect in between; the rename replaces the socket of a dead server
    // (the store's lock, taken before this, proves no live server owns it).
    fs.rmSync(temporary, { force: true });
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(temporary, () => {
          server.off('error', reject);
          resolve();
        });
      });
      fs.chmodSync(temporary, 0o600);
      fs.renameSync(temporary, file);
    } catch (err) {
      server.close();
      fs.rmSync(temporary, { force: true });
      log.warn({ err, path: file }, 'could not open the control socket: online backups are unavailable (stop the server to back up)');
      return null;
    }
    control = new ControlSocket(server, dataDir, file, store, log);
    return control;
  }

  /** Stops listening, aborts a backup in progress (its partial file is removed) and waits for it. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.running?.abort.abort();
    await this.running?.done;
    for (const conn of this.connections) conn.destroy();
    await closed;
    fs.rmSync(this.file, { force: true });
  }

  private serve(conn: net.Socket): void {
    let received = '';
    this.connections.add(conn);
    conn.on('close', () => this.connections.delete(conn));
    conn.setEncoding('utf8');
    conn.on('error', () => conn.destroy());
    const onData = (chunk: string) => {
      received += chunk;
      const end = received.indexOf('\n');
      if (end < 0) {
        if (received.length > MAX_REQUEST_BYTES) conn.destroy();
        return;
      }
      conn.off('data', onData);
      const send = (reply: ControlReply) => conn.writable && conn.write(JSON.stringify(reply) + '\n');
      this.handle(received.slice(0, end), conn, send)
        .catch((err) => this.log.warn({ err }, 'control socket request failed'))
        .finally(() => conn.end());
    };
    conn.on('data', onData);
  }

  private async handle(line: string, conn: net.Socket, send: (r: ControlReply) => unknown): Promise<void> {
    let req: Partial<BackupRequest>;
    try {
      req = JSON.parse(line) as Partial<BackupRequest>;
    } catch {
      req = {};
    }
    if (req.op !== 'backup' || typeof req.file !== 'string' || !path.isAbsolute(req.file)) {
      send({ type: 'error', code: 'invalid_request', message: 'expected {"op":"backup","file":"<absolute path>"}' });
      return;
    }
    if (isStoreFile(this.dataDir, req.file)) {
      send({ type: 'error', code: 'invalid_request', message: `${req.file} is a file of the store itself; write the backup elsewhere` });
      return;
    }
    if (this.running) {
      send({ type: 'error', code: 'busy', message: 'another backup is in progress; try again when it is done' });
      return;
    }
    if (!req.force && fs.existsSync(req.file)) {
      send({ type: 'error', code: 'exists', message: `${req.file} exists; pass --force to replace it` });
      return;
    }
    const abort = new AbortController();
    // The client went away (Ctrl-C): nobody will rename or read the copy, so stop making it.
    conn.on('close', () => abort.abort());
    const started = Date.now();
    let progressAt = 0;
    const done = this.store.backupTo!(req.file, {
      signal: abort.signal,
      onProgress: (p) => {
        if (Date.now() - progressAt < PROGRESS_EVERY_MS) return;
        progressAt = Date.now();
        send({ type: 'progress', ...p });
      },
    });
    this.running = { abort, done: done.catch(() => undefined) };
    try {
      const result = await done;
      const ms = Date.now() - started;
      this.log.info({ file: req.file, bytes: result.bytes, ms }, 'backup written');
      send({ type: 'done', result, ms });
    } catch (err) {
      this.log.warn({ err, file: req.file }, 'backup failed');
      send({ type: 'error', code: 'failed', message: (err as Error).message });
    } finally {
      this.running = null;
    }
  }
}

export class ControlError extends Error {
  override name = 'ControlError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Asks the server running on `dataDir` for a backup into `file` (absolute). Resolves null when no
 * server listens there; rejects with ControlError when the server refused or the copy failed.
 */
export function requestBackup(dataDir: string, req: Omit<BackupRequest, 'op'>, onProgress: (p: { done: number; total: number }) => void): Promise<{ result: BackupResult; ms: number } | null> {
  return new Promise((resolve, reject) => {
    const conn = net.connect(controlSocketPath(dataDir));
    let connected = false;
    let settled = false;
    let received = '';
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      fn();
      conn.destroy();
    };
    conn.setEncoding('utf8');
    conn.on('connect', () => {
      connected = true;
      conn.write(JSON.stringify({ op: 'backup', ...req }) + '\n');
    });
    conn.on('error', (err: NodeJS.ErrnoException) => {
      // No socket file, or one left by a server that died: nobody is serving this data dir.
      if (!connected && (err.code === 'ENOENT' || err.code === 'ECONNREFUSED')) settle(() => resolve(null));
      else settle(() => reject(new ControlError('failed', `control socket: ${err.message}`)));
    });
    conn.on('data', (chunk: string) => {
      received += chunk;
      let end: number;
      while ((end = received.indexOf('\n')) >= 0) {
        let reply: ControlReply;
        try {
          reply = JSON.parse(received.slice(0, end)) as ControlReply;
        } catch {
          return settle(() => reject(new ControlError('failed', `control socket: not an answer: ${received.slice(0, 80)}`)));
        }
        received = received.slice(end + 1);
        if (reply.type === 'progress') onProgress(reply);
        else if (reply.type === 'done') settle(() => resolve({ result: reply.result, ms: reply.ms }));
        else settle(() => reject(new ControlError(reply.code, reply.message)));
      }
    });
    conn.on('close', () => settle(() => reject(new ControlError('failed', 'the server closed the control socket before the backup was done (did it stop?)'))));
  });
}
