import type { Kysely } from 'kysely';

/**
 * Consumer portal (issue 9): whether an endpoint's URL was last set in a portal session. Such a
 * URL is sent to under the portal's network policy (HOOKBRIDGE_PORTAL_ALLOW_PRIVATE_NETWORKS) at
 * every connection, not only when it was set, so a consumer's hostname re-pointed later at one of
 * the operator's private networks is still refused.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('endpoints').addColumn('url_set_in_portal', 'integer', (c) => c.notNull().defaultTo(0)).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('endpoints').dropColumn('url_set_in_portal').execute();
}
