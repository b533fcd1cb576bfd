/**
 * "Replay matching": replays every delivery the current filter shows, after counting them.
 * POST /v1/deliveries/replay takes a filter of status, endpoint_id, since and until only; when the
 * list is also narrowed by consumer or event type, the console collects the ids (as
 * `hookbridge deliveries bulk-replay` does) and replays those, so what is replayed is what is shown.
 */
import { useEffect, useState } from 'preact/hooks';
import { api, type Page } from '../api';
import type { Delivery } from '../types';
import { Confirm, ErrorNote, useAction } from '../ui';
import type { Filters } from './deliveries';

const REPLAYABLE = ['succeeded', 'failed', 'cancelled'];
/** Counting pages through the list; past this many the dialog says "more than". */
const COUNT_CAP = 5000;
const COUNT_PAGE = 250; // the API's maximum `limit`
const IDS_BATCH = 1000; // the API's maximum `ids` per request

interface Count {
  n: number;
  capped: boolean;
  ids: string[];
}
interface Result {
  replayed: number;
  skipped: number;
  expired: number;
}

async function countMatching(filters: Filters): Promise<Count> {
  const ids: string[] = [];
  let cursor: string | null = null;
  for (;;) {
    const page: Page<Delivery> = await api.get<Page<Delivery>>('/deliveries', { ...filters, limit: COUNT_PAGE, cursor });
    for (const d of page.data) ids.push(d.id);
    if (!page.has_more || !page.next_cursor) return { n: ids.length, capped: false, ids };
    if (ids.length >= COUNT_CAP) return { n: ids.length, capped: true, ids };
    cursor = page.next_cursor;
  }
}

const plural = (n: number, capped = false) => `${capped ? 'more than ' : ''}${n.toLocaleString()} ${n === 1 && !capped ? 'delivery' : 'deliveries'}`;

export function BulkReplay({ filters, portal, onDone }: { filters: Filters; portal: boolean; onDone: () => void }) {
  const key = JSON.stringify(filters);
  const [open, setOpen] = useState(false);
  const [count, setCount] = useState<Count>();
  const [result, setResult] = useState<Result>();
  useEffect(() => {
    setOpen(false);
    setCount(undefined);
    setResult(undefined);
  }, [key]);

  const replayable = filters.status !== undefined && REPLAYABLE.includes(filters.status);
  const outsideApiFilter = [filters.consumer_id && !portal ? 'consumer' : null, filters.event_type ? 'event type' : null].filter((x): x is string => x !== null);
  const byIds = outsideApiFilter.length > 0;

  const counting = useAction(async () => setCount(await countMatching(filters)));
  const replaying = useAction(async () => {
    if (!count || !filters.status) return;
    let total: Result = { replayed: 0, skipped: 0, expired: 0 };
    if (byIds) {
      for (let i = 0; i < count.ids.length; i += IDS_BATCH) {
        const r = await api.post<Result>('/deliveries/replay', { ids: count.ids.slice(i, i + IDS_BATCH) });
        total = { replayed: total.replayed + r.replayed, skipped: total.skipped + r.skipped, expired: total.expired + r.expired };
      }
    } else {
      total = await api.post<Result>('/deliveries/replay', { status: filters.status, endpoint_id: filters.endpoint_id, since: filters.since, until: filters.until });
    }
    setResult(total);
    setOpen(false);
    onDone();
  });

  const start = () => {
    setResult(undefined);
    setCount(undefined);
    counting.clearError();
    replaying.clearError();
    setOpen(true);
    void counting.run();
  };

  // By ids the console can only replay what it counted; past the cap it would replay a part.
  const tooMany = byIds && count?.capped === true;
  const canConfirm = count !== undefined && count.n > 0 && !tooMany && !replaying.busy;
  const label = count ? `Replay ${plural(count.n, count.capped)}` : 'Replay';

  return (
    <div class="bulk-replay">
      <button type="button" class="secondary" disabled={!replayable} aria-describedby="bulk-replay-hint" onClick={start}>
        Replay matching
      </button>
      <span id="bulk-replay-hint" class="hint">
        {replayable ? `Sends every ${filters.status} delivery of this filter again.` : 'Filter by status succeeded, failed or cancelled to replay what matches.'}
      </span>
      {result && (
        <p class="bulk-result" role="status">
          Replayed {result.replayed}, skipped {result.skipped}
          {result.expired > 0 ? ` (${result.expired} whose payload was removed)` : ''}.
        </p>
      )}
      <Confirm open={open} title="Replay matching deliveries" confirmLabel={label} busy={!canConfirm} onConfirm={() => void replaying.run()} onClose={() => setOpen(false)}>
        {counting.busy ? (
          <p aria-live="polite">Counting the matching deliveries…</p>
        ) : count ? (
          <p aria-live="polite">
            <strong>{plural(count.n, count.capped)}</strong> {count.n === 1 && !count.capped ? 'matches' : 'match'} this filter
            {portal ? ' (your deliveries only)' : ''}.
          </p>
        ) : null}
        <p class="hint">
          Each is sent again with the same webhook-id, and its retry schedule starts over. Deliveries of disabled or deleted endpoints, and
          those whose payload was removed, are skipped.
        </p>
        {byIds && (
          <p class="hint">
            The API's bulk filter has no {outsideApiFilter.join(' or ')}, so the console replays the matching deliveries by id
            {count && count.n > IDS_BATCH ? `, ${IDS_BATCH} per request` : ''}.
          </p>
        )}
        {tooMany && (
          <p class="error-note">
            More than {COUNT_CAP.toLocaleString()} deliveries match, more than the console replays by id. Narrow the filter (endpoint, since,
            until), or remove the {outsideApiFilter.join(' and ')} filter to let the API replay them all.
          </p>
        )}
        {!byIds && count?.capped && <p class="hint">Counting stopped at {COUNT_CAP.toLocaleString()}; the API replays all of them.</p>}
        <ErrorNote error={counting.error} />
        <ErrorNote error={replaying.error} />
      </Confirm>
    </div>
  );
}
