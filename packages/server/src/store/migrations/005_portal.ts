import type { Kysely } from 'kysely';

/**
 * The console and the consumer portal (issue 9):
 * - endpoints: whether the URL was last set in a portal session. Such a URL is sent to under the
 *   portal's network policy (HOOKBRIDGE_PORTAL_ALLOW_PRIVATE_NETWORKS) at every connection, not
 *   only when it was set, so a consumer's hostname re-pointed later at one of the operator's
 *   private networks is still refused;
 * - attempts: the headers of the request Hookbridge sent (JSON; custom header values redacted),
 *   so that a delivery's detail shows what was sent rather than what would be.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('endpoints').addColumn('url_set_in_portal', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('attempts').addColumn('request_headers', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('attempts').dropColumn('request_headers').execute();
  await db.schema.alterTable('endpoints').dropColumn('url_set_in_portal').execute();
}
