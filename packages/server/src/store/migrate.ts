import { Migrator, type Kysely, type Migration } from 'kysely';
import * as m001 from './migrations/001_initial.js';
import * as m002 from './migrations/002_endpoint_buckets.js';
import * as m003 from './migrations/003_inbound.js';
import * as m004 from './migrations/004_operations.js';
import * as m005 from './migrations/005_portal.js';
import type { Database } from './schema.js';

/** Migrations are compiled in, not read from disk, so the built package runs from anywhere. */
const MIGRATIONS: Record<string, Migration> = {
  '001_initial': m001,
  '002_endpoint_buckets': m002,
  '003_inbound': m003,
  '004_operations': m004,
  '005_portal': m005,
};

/** The migrations this build knows, in order; a store with others was made by a newer build. */
export const KNOWN_MIGRATIONS: readonly string[] = Object.keys(MIGRATIONS).sort();

export async function migrateToLatest(db: Kysely<Database>): Promise<string[]> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => MIGRATIONS } });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error;
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
