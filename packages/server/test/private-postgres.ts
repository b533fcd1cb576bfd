/**
 * A PostgreSQL cluster of a test's own (initdb + pg_ctl on a spare loopback port), for tests that
 * stop and start the database: never the shared server.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const BIN_DIRS = ['/usr/lib/postgresql/17/bin', '/usr/lib/postgresql/16/bin', '/usr/lib/postgresql/15/bin'];
export const PG_BIN = BIN_DIRS.find((d) => fs.existsSync(path.join(d, 'initdb')));

export interface PrivateCluster {
  url: string;
  start(): void;
  /** `immediate` is a crash: no checkpoint, recovery from the WAL on the next start. */
  stop(mode?: 'fast' | 'immediate'): void;
  destroy(): void;
}

function asPostgres(args: string[]): void {
  // initdb and postgres refuse to run as root.
  const runAs = process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--'] : [];
  const [cmd, ...rest] = [...runAs, ...args];
  execFileSync(cmd, rest, { stdio: 'pipe', timeout: 60_000 });
}

export function createPrivateCluster(port: number): PrivateCluster {
  if (!PG_BIN) throw new Error('PostgreSQL server binaries (initdb) not found');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hb-pg-'));
  const data = path.join(dir, 'data');
  fs.chmodSync(dir, 0o777);
  if (process.getuid?.() === 0) execFileSync('chown', ['postgres', dir]);
  asPostgres([path.join(PG_BIN, 'initdb'), '-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  const ctl = (...a: string[]) => asPostgres([path.join(PG_BIN, 'pg_ctl'), '-D', data, ...a]);
  const cluster: PrivateCluster = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start: () => ctl('-l', path.join(dir, 'log'), '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, '-w', 'start'),
    stop: (mode = 'fast') => ctl('-m', mode, '-w', 'stop'),
    destroy: () => {
      try {
        cluster.stop('immediate');
      } catch {
        // already stopped
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  cluster.start();
  return cluster;
}
