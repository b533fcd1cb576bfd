/**
 * The hookbridge.inbound.rejected operational webhook: once a period, one event per inbound
 * endpoint that refused requests in it, counting them by reason. A refusal storm thus costs the
 * subscribers one webhook per endpoint and period, not one per refused request.
 *
 * The window's start is a watermark in `ops_watermarks`, advanced with a compare-and-set in the
 * same transaction that publishes the events: with several processes on one PostgreSQL each
 * window is summarized by exactly one of them, and a summary lost to a crash (or a power cut on
 * the embedded store, whose commit here is relaxed) rolls its watermark back with it, so the
 * window is summarized again rather than skipped.
 */
import type { Logger } from 'pino';
import { OPERATIONAL_EVENT_TYPES, inboundRejectedData, summaryWindow } from '../core/operational-events.js';
import { emitOperationalEvent } from '../store/operational-events.js';
import type { Store } from '../store/store.js';

const WATERMARK = 'inbound_rejected_summary';
/**
 * A refusal's time is taken before its (group) commit, so a window closes this long before now:
 * a refusal still being committed falls in the next window instead of in none.
 */
const COMMIT_LAG_MS = 2000;

/** Summarizes the window that ended, if one did and no other process took it; returns the endpoints that got deliveries. */
export async function summarizeInboundRejections(store: Store, periodMs: number, now: number): Promise<string[]> {
  return store.dialect.transaction(store.db, 'relaxed', async (trx) => {
    const mark = await trx.selectFrom('ops_watermarks').select('value').where('name', '=', WATERMARK).executeTakeFirst();
    if (!mark) {
      // The first process to run this starts counting now; earlier refusals are not reported.
      await trx
        .insertInto('ops_watermarks')
        .values({ name: WATERMARK, value: now - COMMIT_LAG_MS })
        .onConflict((oc) => oc.column('name').doNothing())
        .execute();
      return [];
    }
    const since = Number(mark.value);
    const window = summaryWindow(since, now, periodMs, COMMIT_LAG_MS);
    if (!window) return [];
    const taken = await trx.updateTable('ops_watermarks').set({ value: window.until }).where('name', '=', WATERMARK).where('value', '=', since).executeTakeFirst();
    if (Number(taken.numUpdatedRows) === 0) return []; // another process summarized this window
    const rows = await trx
      .selectFrom('inbound_rejections')
      .select(['project_id', 'inbound_endpoint_id', 'reason', (eb) => eb.fn.countAll<number>().as('n')])
      .where('created_at', '>=', window.since)
      .where('created_at', '<', window.until)
      .groupBy(['project_id', 'inbound_endpoint_id', 'reason'])
      .orderBy('inbound_endpoint_id')
      .orderBy('reason')
      .execute();
    const byEndpoint = new Map<string, { projectId: string; byReason: Record<string, number> }>();
    for (const r of rows) {
      const entry = byEndpoint.get(r.inbound_endpoint_id) ?? { projectId: r.project_id, byReason: {} };
      entry.byReason[r.reason] = Number(r.n);
      byEndpoint.set(r.inbound_endpoint_id, entry);
    }
    const queuedFor: string[] = [];
    for (const [id, { projectId, byReason }] of byEndpoint) {
      queuedFor.push(
        ...(await emitOperationalEvent(trx, {
          projectId,
          type: OPERATIONAL_EVENT_TYPES.inboundRejected,
          // Inbound endpoints belong to the operator: only endpoints without a consumer hear of them.
          subject: { endpointId: id, consumerId: null },
          data: inboundRejectedData(id, window.since, window.until, byReason),
          now,
        })),
      );
    }
    return queuedFor;
  });
}

/** Runs the summary on a timer in a process that delivers (role all or worker). */
export class InboundRejectedSummary {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly store: Store,
    private readonly periodMs: number,
    private readonly log: Logger,
    /** Called with the endpoints that got deliveries, once they are committed. */
    private readonly queued: (endpointIds: string[]) => void,
  ) {}

  start(): void {
    // At once, so the window of a fresh store starts with the process; then twice a period,
    // so a window is closed at most half a period late.
    this.tick();
    this.timer = setInterval(() => this.tick(), Math.max(500, this.periodMs / 2));
    this.timer.unref();
  }

  private tick(): void {
    if (this.running) return;
    this.running = summarizeInboundRejections(this.store, this.periodMs, Date.now())
      .then((queuedFor) => {
        if (queuedFor.length > 0) this.queued(queuedFor);
      })
      .catch((err) => this.log.warn({ err }, 'could not summarize inbound rejections; the next run covers the same window'))
      .finally(() => (this.running = null));
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }
}
