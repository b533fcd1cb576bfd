/**
 * The store: one object the API and the delivery engine talk to. It owns the database handle and
 * exposes one repository per resource. Which engine sits below (the embedded SQLite now,
 * PostgreSQL later) is decided here and in dialect.ts only.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { SecretBox } from '../core/secret-box.js';
import { postgresDialect, sqliteDialect, type StoreDialect } from './dialect.js';
import { DeliveryRepository } from './deliveries.js';
import { EndpointRepository } from './endpoints.js';
import { ExportRepository } from './exports.js';
import { GroupCommitter } from './group-commit.js';
import { InboundEndpointRepository } from './inbound-endpoints.js';
import { InboundEventRepository } from './inbound-events.js';
import { MessageRepository } from './messages.js';
import { MetricsRepository } from './metrics.js';
import { migrateToLatest } from './migrate.js';
import { ProjectRepository } from './projects.js';
import { RetentionRepository } from './retention.js';
import type { Database } from './schema.js';
import { noWorkSignal, PostgresWorkSignal, type WorkSignal } from './work-signal.js';
import { openPostgres } from './postgres.js';
import { openSqlite } from './sqlite.js';
import { backupDatabase, type BackupOptions, type BackupResult } from './backup.js';
import type { QueryObserver } from './query-log.js';

export interface StoreOptions {
  dataDir: string;
  /** postgres://… selects PostgreSQL; otherwise the embedded SQLite store in dataDir. */
  databaseUrl?: string;
  dbPoolSize?: number;
  /** Where PostgreSQL connection trouble is reported; it must never crash the process. */
  logger?: Logger;
  /** base64 of 32 bytes; when absent the embedded store keeps a generated key in the data dir. */
  masterKey?: string;
  /** Told every statement's SQL and duration (the store-latency metric). */
  onQuery?: QueryObserver;
}

export class Store {
  readonly projects: ProjectRepository;
  readonly endpoints: EndpointRepository;
  readonly messages: MessageRepository;
  readonly deliveries: DeliveryRepository;
  readonly metrics: MetricsRepository;
  readonly inboundEndpoints: InboundEndpointRepository;
  readonly inboundEvents: InboundEventRepository;
  /** Payload and record retention, DELETE /v1/messages/{id} (store/retention.ts). */
  readonly retention: RetentionRepository;
  readonly exports: ExportRepository;
  /** Wakes workers in other processes (PostgreSQL); nothing to do for the embedded store. */
  signal: WorkSignal = noWorkSignal;
  /** Online copy of the embedded store into a file (store/backup.ts); null on PostgreSQL (pg_dump). */
  backupTo: ((file: string, opts?: BackupOptions) => Promise<BackupResult>) | null = null;

  private constructor(
    readonly db: Kysely<Database>,
    readonly dialect: StoreDialect,
    /** Seals signing secrets at rest under this store's master key. */
    readonly box: SecretBox,
    private readonly closeDriver: () => void | Promise<void>,
  ) {
    const committer = new GroupCommitter(db, dialect);
    this.projects = new ProjectRepository(db, dialect);
    this.endpoints = new EndpointRepository(db, box);
    this.messages = new MessageRepository(db, committer);
    this.deliveries = new DeliveryRepository(db, dialect, committer, this.endpoints);
    this.metrics = new MetricsRepository(db);
    this.inboundEndpoints = new InboundEndpointRepository(db, box, this.endpoints);
    this.inboundEvents = new InboundEventRepository(db, dialect, committer);
    this.retention = new RetentionRepository(db, dialect);
    this.exports = new ExportRepository(db, this.inboundEvents);
  }

  /** Opens the embedded store, runs migrations, and takes back the leases of the previous process. */
  static async openEmbedded(opts: StoreOptions): Promise<Store> {
    const { db, sqlite, walSync, close } = openSqlite(opts.dataDir, opts.onQuery);
    try {
      await migrateToLatest(db);
      const store = new Store(db, sqliteDialect(walSync), new SecretBox(loadOrCreateMasterKey(opts)), close);
      await store.endpoints.sealPlainHeaders();
      store.backupTo = (file, o) => backupDatabase(sqlite, file, o);
      // The lock in openSqlite proves no other process holds leases, so the previous owner's
      // claims can go back in line now rather than after the lease.
      await store.deliveries.releaseExpiredLeases(Date.now(), Infinity);
      return store;
    } catch (e) {
      await db.destroy().catch(() => undefined);
      await close();
      throw e;
    }
  }

  /** The store the options select: PostgreSQL when a database URL is given, else embedded. */
  static open(opts: StoreOptions): Promise<Store> {
    return opts.databaseUrl ? Store.openPostgres(opts) : Store.openEmbedded(opts);
  }

  /**
   * Opens the PostgreSQL store and runs migrations (Kysely's migrator holds an advisory lock, so
   * several processes may start at once). Leases are not released at start: other processes may
   * hold them; a dead process's leases run out.
   */
  static async openPostgres(opts: StoreOptions): Promise<Store> {
    if (!opts.databaseUrl || !opts.masterKey) throw new Error('PostgreSQL store needs a database URL and a master key');
    const log = opts.logger;
    const { db, close } = openPostgres(opts.databaseUrl, opts.dbPoolSize ?? 10, (err) => log?.warn({ err }, 'database connection lost; it will be replaced'), opts.onQuery);
    try {
      await migrateToLatest(db);
      const store = new Store(db, postgresDialect, new SecretBox(Buffer.from(opts.masterKey, 'base64')), close);
      await store.endpoints.sealPlainHeaders();
      if (log) store.signal = new PostgresWorkSignal(db, opts.databaseUrl, log);
      return store;
    } catch (e) {
      await db.destroy().catch(() => undefined);
      throw e;
    }
  }

  async ping(): Promise<void> {
    await this.dialect.ping(this.db);
  }

  async close(): Promise<void> {
    await this.signal.close();
    // Kysely's destroy ends the pg pool itself; the SQLite handle needs closing by hand.
    await this.db.destroy();
    if (this.dialect.name === 'sqlite') await this.closeDriver();
  }
}

function loadOrCreateMasterKey(opts: StoreOptions): Buffer {
  if (opts.masterKey) return Buffer.from(opts.masterKey, 'base64');
  const file = path.join(opts.dataDir, 'master.key');
  try {
    return Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const key = randomBytes(32);
  fs.writeFileSync(file, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  return key;
}
