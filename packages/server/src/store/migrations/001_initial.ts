import { sql, type Kysely } from 'kysely';

/**
 * Column types are limited to text, bigint and integer so the same migration runs on SQLite and
 * PostgreSQL (see store/schema.ts for the portable-schema rules).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('projects')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('settings', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('api_keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id'))
    .addColumn('key_hash', 'text', (c) => c.notNull().unique())
    .addColumn('prefix', 'text', (c) => c.notNull())
    .addColumn('label', 'text')
    .addColumn('is_admin', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_used_at', 'bigint')
    .addColumn('revoked_at', 'bigint')
    .execute();
  await db.schema.createIndex('api_keys_project').on('api_keys').columns(['project_id', 'id']).execute();

  await db.schema
    .createTable('event_types')
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('schema', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('event_types_pk', ['project_id', 'name'])
    .execute();

  await db.schema
    .createTable('endpoints')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id'))
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('consumer_id', 'text')
    .addColumn('description', 'text')
    .addColumn('event_types', 'text')
    .addColumn('channels', 'text')
    .addColumn('headers', 'text', (c) => c.notNull())
    .addColumn('rate_limit_rps', 'integer')
    .addColumn('timeout_ms', 'integer')
    .addColumn('retry_schedule', 'text')
    .addColumn('retry_client_errors', 'integer', (c) => c.notNull())
    .addColumn('signature_scheme', 'text', (c) => c.notNull())
    .addColumn('ordering', 'text', (c) => c.notNull())
    .addColumn('metadata', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('disabled_reason', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('deleted_at', 'bigint')
    .execute();
  await db.schema.createIndex('endpoints_project').on('endpoints').columns(['project_id', 'id']).execute();
  await db.schema.createIndex('endpoints_consumer').on('endpoints').columns(['project_id', 'consumer_id']).execute();

  await db.schema
    .createTable('endpoint_secrets')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('endpoint_id', 'text', (c) => c.notNull().references('endpoints.id'))
    .addColumn('secret_enc', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint')
    .execute();
  await db.schema.createIndex('endpoint_secrets_endpoint').on('endpoint_secrets').columns(['endpoint_id']).execute();

  await db.schema
    .createTable('messages')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id'))
    .addColumn('event_type', 'text', (c) => c.notNull())
    .addColumn('consumer_id', 'text')
    .addColumn('endpoint_id', 'text')
    .addColumn('broadcast', 'integer', (c) => c.notNull())
    .addColumn('channels', 'text')
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('idempotency_key', 'text')
    .addColumn('request_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('messages_project').on('messages').columns(['project_id', 'id']).execute();
  await db.schema.createIndex('messages_idempotency').on('messages').columns(['project_id', 'idempotency_key']).unique().execute();

  await db.schema
    .createTable('deliveries')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('message_id', 'text', (c) => c.notNull().references('messages.id'))
    .addColumn('endpoint_id', 'text', (c) => c.notNull().references('endpoints.id'))
    .addColumn('consumer_id', 'text')
    .addColumn('event_type', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempt_count', 'integer', (c) => c.notNull())
    .addColumn('run_attempts', 'integer', (c) => c.notNull())
    .addColumn('replay_count', 'integer', (c) => c.notNull())
    .addColumn('next_attempt_at', 'bigint')
    .addColumn('lease_expires_at', 'bigint')
    .addColumn('last_status_code', 'integer')
    .addColumn('last_error', 'text')
    .addColumn('last_attempt_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  // The claim query reads only due work; a partial index keeps it small however many
  // finished deliveries pile up. endpoint_id is in it so skipping busy endpoints reads only the
  // index, not the rows.
  await db.schema
    .createIndex('deliveries_due')
    .on('deliveries')
    .columns(['next_attempt_at', 'endpoint_id'])
    .where(sql.ref('status'), 'in', sql`('queued', 'pending_retry')`)
    .execute();
  await db.schema
    .createIndex('deliveries_leased')
    .on('deliveries')
    .columns(['lease_expires_at'])
    .where(sql.ref('status'), '=', 'delivering')
    .execute();
  await db.schema.createIndex('deliveries_endpoint').on('deliveries').columns(['endpoint_id', 'status', 'id']).execute();
  await db.schema.createIndex('deliveries_project').on('deliveries').columns(['project_id', 'id']).execute();
  await db.schema.createIndex('deliveries_message').on('deliveries').columns(['message_id']).execute();

  await db.schema
    .createTable('attempts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('delivery_id', 'text', (c) => c.notNull().references('deliveries.id'))
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('endpoint_id', 'text', (c) => c.notNull())
    .addColumn('attempt_number', 'integer', (c) => c.notNull())
    .addColumn('started_at', 'bigint', (c) => c.notNull())
    .addColumn('duration_ms', 'integer', (c) => c.notNull())
    .addColumn('status_code', 'integer')
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('error_class', 'text')
    .addColumn('error_message', 'text')
    .addColumn('response_body', 'text')
    .addColumn('response_truncated', 'integer', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('attempts_delivery').on('attempts').columns(['delivery_id', 'attempt_number']).execute();
  await db.schema.createIndex('attempts_project_time').on('attempts').columns(['project_id', 'started_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of ['attempts', 'deliveries', 'messages', 'endpoint_secrets', 'endpoints', 'event_types', 'api_keys', 'projects']) {
    await db.schema.dropTable(t).execute();
  }
}
