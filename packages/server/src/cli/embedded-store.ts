/**
 * What the commands that work on the embedded store's files (backup, restore) share: where the
 * store is, per the same settings `serve` reads, and a refusal when PostgreSQL is configured.
 */
import { ConfigError, loadConfig } from '../config.js';
import { EXIT } from './api.js';

export const PG_DUMP_HINT = 'this configuration uses PostgreSQL (HOOKBRIDGE_DATABASE_URL): back it up with pg_dump and restore with pg_restore, see docs/operations.md "Backups and restore"';

/** The data dir and master key setting, or the exit code after saying why there is none. */
export function embeddedStoreSettings(verb: string, dataDirFlag: string | undefined): { dataDir: string; masterKey: string | undefined } | number {
  try {
    const config = loadConfig(process.env, { dataDir: dataDirFlag });
    if (config.databaseUrl) return fail(EXIT.usage, `${verb} the embedded store only; ${PG_DUMP_HINT}`);
    return { dataDir: config.dataDir, masterKey: config.masterKey };
  } catch (e) {
    // A PostgreSQL configuration missing its master key is still a PostgreSQL configuration.
    if (e instanceof ConfigError) return fail(EXIT.usage, /HOOKBRIDGE_DATABASE_URL/.test(e.message) ? `${verb} the embedded store only; ${PG_DUMP_HINT}` : e.message);
    throw e;
  }
}

export function fail(code: number, message: string): number {
  process.stderr.write(`hookbridge: ${message}\n`);
  return code;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}
