import type { Kysely } from 'kysely';

/**
 * Inbound endpoints. The delivery side of an inbound endpoint (destination, timeout, retries,
 * ordering, status) is a row in `endpoints` with direction 'inbound', so forwarding runs on the
 * outbound engine unchanged; the ingest side (verification, dedupe, mode) is `inbound_endpoints`.
 * An accepted ingest request is a `messages` row carrying its endpoint, headers and encoding.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('endpoints').addColumn('direction', 'text', (c) => c.notNull().defaultTo('outbound')).execute();

  await db.schema
    .createTable('inbound_endpoints')
    .addColumn('id', 'text', (c) => c.primaryKey().references('endpoints.id'))
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('mode', 'text', (c) => c.notNull())
    .addColumn('verification_enc', 'text', (c) => c.notNull())
    .addColumn('allowed_cidrs', 'text')
    .addColumn('idempotency_header_names', 'text')
    .addColumn('dedupe_window_seconds', 'integer')
    .addColumn('retention_seconds', 'integer')
    .addColumn('ingest_response_code', 'integer', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('inbound_endpoints_project').on('inbound_endpoints').columns(['project_id', 'id']).execute();

  await db.schema.alterTable('messages').addColumn('inbound_endpoint_id', 'text').execute();
  await db.schema.alterTable('messages').addColumn('headers', 'text').execute();
  await db.schema.alterTable('messages').addColumn('body_encoding', 'text').execute();
  await db.schema.alterTable('messages').addColumn('source_ip', 'text').execute();
  await db.schema.alterTable('messages').addColumn('dedupe_key', 'text').execute();
  await db.schema.alterTable('messages').addColumn('acked_at', 'bigint').execute();
  await db.schema.createIndex('messages_inbound').on('messages').columns(['inbound_endpoint_id', 'id']).execute();
  await db.schema.createIndex('messages_dedupe').on('messages').columns(['inbound_endpoint_id', 'dedupe_key']).execute();

  await db.schema
    .createTable('inbound_rejections')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('inbound_endpoint_id', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('status_code', 'integer', (c) => c.notNull())
    .addColumn('source_ip', 'text')
    .addColumn('headers', 'text', (c) => c.notNull())
    .addColumn('body_bytes', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('inbound_rejections_project').on('inbound_rejections').columns(['project_id', 'id']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('inbound_rejections').execute();
  await db.schema.dropIndex('messages_dedupe').execute();
  await db.schema.dropIndex('messages_inbound').execute();
  for (const c of ['acked_at', 'dedupe_key', 'source_ip', 'body_encoding', 'headers', 'inbound_endpoint_id']) {
    await db.schema.alterTable('messages').dropColumn(c).execute();
  }
  await db.schema.dropTable('inbound_endpoints').execute();
  await db.schema.alterTable('endpoints').dropColumn('direction').execute();
}
