/**
 * Copies what a running deployment needs from one store into an empty other one (the embedded
 * store into PostgreSQL): projects, API keys, event types, endpoints with their current signing
 * secrets (re-sealed under the target's master key), inbound endpoints (their verification
 * re-sealed too), every message or inbound event that still has a delivery to make, with those
 * deliveries and their attempts so far, and held inbound events not yet acknowledged. Finished deliveries and their history,
 * deleted endpoints, expired secrets and rate-limit state are not copied.
 */
import type { Insertable, Transaction } from 'kysely';
import type { Database } from './schema.js';
import type { Store } from './store.js';
import { openHeaders, sealHeaders } from './rows.js';

export interface CopyReport {
  projects: number;
  apiKeys: number;
  eventTypes: number;
  endpoints: number;
  inboundEndpoints: number;
  secrets: number;
  messages: number;
  deliveries: number;
  attempts: number;
  /** Finished (succeeded, failed, cancelled) deliveries left behind. */
  finishedDeliveriesLeft: number;
}

const UNFINISHED = ['queued', 'pending_retry', 'paused', 'delivering'];
const CHUNK = 200;

async function insertAll<T extends keyof Database>(trx: Transaction<Database>, table: T, rows: Insertable<Database[T]>[]): Promise<number> {
  for (let i = 0; i < rows.length; i += CHUNK) {
    await trx
      .insertInto(table)
      .values(rows.slice(i, i + CHUNK) as never)
      .execute();
  }
  return rows.length;
}

export async function copyStore(from: Store, to: Store, progress: (line: string) => void = () => undefined): Promise<CopyReport> {
  if ((await to.projects.count()) > 0) throw new Error('the target store is not empty; copy into a fresh database');
  const src = from.db;
  const now = Date.now();
  const endpoints = (await src.selectFrom('endpoints').selectAll().where('deleted_at', 'is', null).execute()).map((r) => ({
    ...r,
    headers: sealHeaders(to.box, openHeaders(from.box, r.headers)),
  }));
  const endpointIds = new Set(endpoints.map((e) => e.id));
  const secrets = (
    await src
      .selectFrom('endpoint_secrets')
      .selectAll()
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
      .execute()
  )
    .filter((r) => endpointIds.has(r.endpoint_id))
    .map((r) => ({ ...r, secret_enc: to.box.seal(from.box.open(r.secret_enc)) }));
  const deliveries = (await src.selectFrom('deliveries').selectAll().where('status', 'in', UNFINISHED).execute())
    .filter((d) => endpointIds.has(d.endpoint_id))
    // A lease belongs to a process of the old deployment: the delivery goes back in line.
    .map((d) => (d.status === 'delivering' ? { ...d, status: 'queued', lease_expires_at: null, next_attempt_at: now } : d));
  const deliveryIds = deliveries.map((d) => d.id);
  const messageIds = [...new Set(deliveries.map((d) => d.message_id))];
  const byIds = async <T extends 'messages' | 'attempts'>(table: T, column: 'id' | 'delivery_id', ids: string[]) => {
    const out = [];
    for (let i = 0; i < ids.length; i += 500) {
      out.push(...(await src.selectFrom(table as 'messages').selectAll().where(column as 'id', 'in', ids.slice(i, i + 500)).execute()));
    }
    return out as unknown as Insertable<Database[T]>[];
  };
  const inbound = (await src.selectFrom('inbound_endpoints').selectAll().execute())
    .filter((r) => endpointIds.has(r.id))
    .map((r) => ({ ...r, verification_enc: to.box.seal(from.box.open(r.verification_enc)) }));
  // Events held for pull/cli consumers and not yet acknowledged have no delivery: copy them too.
  const forwarded = new Set(messageIds);
  const held = (await src.selectFrom('messages').select('id').where('inbound_endpoint_id', 'is not', null).where('acked_at', 'is', null).execute())
    .map((r) => r.id)
    .filter((id) => !forwarded.has(id));
  const messages = await byIds('messages', 'id', [...messageIds, ...held]);
  const attempts = await byIds('attempts', 'delivery_id', deliveryIds);
  const finished = await src
    .selectFrom('deliveries')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('status', 'not in', UNFINISHED)
    .executeTakeFirstOrThrow();

  return to.dialect.transaction(to.db, 'durable', async (trx) => {
    const report: CopyReport = {
      projects: await insertAll(trx, 'projects', await src.selectFrom('projects').selectAll().execute()),
      apiKeys: await insertAll(trx, 'api_keys', await src.selectFrom('api_keys').selectAll().execute()),
      eventTypes: await insertAll(trx, 'event_types', await src.selectFrom('event_types').selectAll().execute()),
      endpoints: await insertAll(trx, 'endpoints', endpoints),
      inboundEndpoints: await insertAll(trx, 'inbound_endpoints', inbound),
      secrets: await insertAll(trx, 'endpoint_secrets', secrets),
      messages: await insertAll(trx, 'messages', messages),
      deliveries: await insertAll(trx, 'deliveries', deliveries),
      attempts: await insertAll(trx, 'attempts', attempts),
      finishedDeliveriesLeft: Number(finished.n),
    };
    for (const [k, v] of Object.entries(report)) progress(`${k.padEnd(24)} ${v}`);
    return report;
  });
}
