/**
 * PostgreSQL for tests: each store or server gets a database of its own on the local server,
 * dropped when it closes. `npm test` runs the suite a second time with HOOKBRIDGE_TEST_STORE=postgres.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const TEST_STORE: 'sqlite' | 'postgres' = process.env.HOOKBRIDGE_TEST_STORE === 'postgres' ? 'postgres' : 'sqlite';

/** Admin connection used to create and drop test databases. */
export const PG_ADMIN_URL = process.env.HOOKBRIDGE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export const TEST_MASTER_KEY = randomBytes(32).toString('base64');

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: PG_ADMIN_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `hb_test_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}
