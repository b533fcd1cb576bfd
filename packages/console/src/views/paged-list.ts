/**
 * A cursor-paged list ("Load more"): the first page, then each next page appended.
 * `items` is undefined until the first page arrives; `reload` starts over from the first page.
 */
import { useState } from 'preact/hooks';
import { api, type Page, type Query } from '../api';
import { useAction, useLoad } from '../ui';

export function usePagedList<T>(path: string, query?: Query, limit = 50) {
  const key = JSON.stringify([path, query ?? null, limit]);
  const first = useLoad(() => api.get<Page<T>>(path, { ...query, limit }), [key]);
  const [extra, setExtra] = useState<{ key: string; data: Page<T>; items: T[] }>();
  const more = extra && extra.key === key && first.data ? extra : undefined;
  const items = first.data ? (more ? more.items : first.data.data) : undefined;
  const last = more ? more.data : first.data;
  const next = useAction(async () => {
    if (!last?.next_cursor || !items) return;
    const page = await api.get<Page<T>>(path, { ...query, limit, cursor: last.next_cursor });
    setExtra({ key, data: page, items: [...items, ...page.data] });
  });
  return {
    items,
    loading: first.loading,
    error: first.error ?? next.error,
    hasMore: last?.has_more ?? false,
    loadMore: () => void next.run(),
    moreBusy: next.busy,
    reload: () => {
      setExtra(undefined);
      first.reload();
    },
  };
}
