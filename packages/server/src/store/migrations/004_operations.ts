import { sql, type Kysely } from 'kysely';

/**
 * Operations (issue 8): what auto-disable, retention, exports and request ids keep.
 * - endpoints: the failing streak auto-disable measures, and per-endpoint overrides of its limits;
 * - messages: when retention (or DELETE /v1/messages/{id}) removed the payload, and the id of the
 *   API request that created the message; attempts: the id of the request Hookbridge sent;
 * - exports: one row per export job; ops_watermarks: how far periodic jobs (the inbound.rejected
 *   summary) have got, shared by every process of a PostgreSQL deployment.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('endpoints').addColumn('failing_since', 'bigint').execute();
  await db.schema.alterTable('endpoints').addColumn('failures_since_success', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('endpoints').addColumn('disable_after_seconds', 'integer').execute();
  await db.schema.alterTable('endpoints').addColumn('disable_min_failures', 'integer').execute();

  await db.schema.alterTable('messages').addColumn('payload_removed_at', 'bigint').execute();
  await db.schema.alterTable('messages').addColumn('request_id', 'text').execute();
  // W3C traceparent of the span that accepted the message: its attempts' spans join that trace.
  await db.schema.alterTable('messages').addColumn('trace_parent', 'text').execute();
  // Retention works per project (each has its own windows): the project leads both indexes, so a
  // project's pass never walks another project's rows.
  await db.schema.createIndex('messages_created').on('messages').columns(['project_id', 'created_at']).execute();
  // Payload retention walks only the messages that still have a payload.
  await db.schema
    .createIndex('messages_payload_kept')
    .on('messages')
    .columns(['project_id', 'created_at'])
    .where(sql.ref('payload_removed_at'), 'is', null)
    .execute();
  // By time across projects (the inbound.rejected summary), and per project (retention).
  await db.schema.createIndex('inbound_rejections_created').on('inbound_rejections').columns(['created_at']).execute();
  await db.schema.createIndex('inbound_rejections_project_created').on('inbound_rejections').columns(['project_id', 'created_at']).execute();

  await db.schema.alterTable('attempts').addColumn('request_id', 'text').execute();
  // The Prometheus backlog gauges count paused and failed deliveries without reading finished ones.
  await db.schema
    .createIndex('deliveries_parked')
    .on('deliveries')
    .columns(['status'])
    .where(sql.ref('status'), 'in', sql`('paused', 'failed')`)
    .execute();

  await db.schema
    .createTable('exports')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('format', 'text', (c) => c.notNull())
    /** JSON of the filters given at creation. */
    .addColumn('filters', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('row_count', 'integer')
    /** The newest row id the export includes: the snapshot bound. */
    .addColumn('last_id', 'text')
    .addColumn('error', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('finished_at', 'bigint')
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('exports_project').on('exports').columns(['project_id', 'id']).execute();

  await db.schema
    .createTable('ops_watermarks')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('value', 'bigint', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('ops_watermarks').execute();
  await db.schema.dropTable('exports').execute();
  await db.schema.dropIndex('deliveries_parked').execute();
  await db.schema.alterTable('attempts').dropColumn('request_id').execute();
  await db.schema.dropIndex('inbound_rejections_project_created').execute();
  await db.schema.dropIndex('inbound_rejections_created').execute();
  await db.schema.dropIndex('messages_payload_kept').execute();
  await db.schema.dropIndex('messages_created').execute();
  await db.schema.alterTable('messages').dropColumn('trace_parent').execute();
  await db.schema.alterTable('messages').dropColumn('request_id').execute();
  await db.schema.alterTable('messages').dropColumn('payload_removed_at').execute();
  for (const c of ['disable_min_failures', 'disable_after_seconds', 'failures_since_success', 'failing_since']) {
    await db.schema.alterTable('endpoints').dropColumn(c).execute();
  }
}
