/**
 * A cursor-paged list, newest first by id (deliveries, inbound events, rejections), whose first
 * page may be polled while "Load more" has appended older pages. The polled first page is
 * authoritative for its id range; older pages fill in below it, so a poll neither drops nor
 * duplicates rows. (Ids sort by creation time, and these lists are ordered by id.)
 */
import { useState } from 'preact/hooks';
import type { Page } from '../api';
import { useAction, useLoad } from '../ui';

interface Older<T> {
  key: string;
  rows: T[];
  cursor: string | null;
  hasMore: boolean;
}

function merge<T extends { id: string }>(first: Page<T>, older: Older<T> | undefined): T[] {
  if (!older || !first.has_more || first.data.length === 0) return first.data;
  const oldest = first.data[first.data.length - 1].id;
  return [...first.data, ...older.rows.filter((r) => r.id < oldest)];
}

export function usePolledList<T extends { id: string }>(fetchPage: (cursor: string | null) => Promise<Page<T>>, deps: unknown[], pollMs?: number) {
  const key = JSON.stringify(deps);
  const first = useLoad(() => fetchPage(null), deps, pollMs);
  const [olderState, setOlder] = useState<Older<T>>();
  const older = olderState?.key === key ? olderState : undefined;
  const rows = first.data ? merge(first.data, older) : undefined;
  const hasMore = (first.data?.has_more ?? false) && (older ? older.hasMore : true);
  const more = useAction(async () => {
    const cursor = older ? older.cursor : (first.data?.next_cursor ?? null);
    if (!cursor) return;
    const page = await fetchPage(cursor);
    setOlder({ key, rows: [...(rows ?? []), ...page.data], cursor: page.next_cursor, hasMore: page.has_more });
  });
  return {
    /** Undefined until the first page arrives (as usePagedList's). */
    items: rows,
    hasMore,
    loading: first.loading && first.data === undefined,
    error: first.error ?? more.error,
    loadMore: () => void more.run(),
    moreBusy: more.busy,
    reload: first.reload,
  };
}
