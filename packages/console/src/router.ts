/**
 * Hash routing (#/deliveries/del_…): the server serves one index.html for the console and for the
 * portal, and the path after # never reaches it. Query parameters of the hash hold view state
 * (filters), so a filtered list can be bookmarked and shared.
 */
import { useEffect, useState } from 'preact/hooks';

export interface Route {
  /** The path after #, without its query: "/deliveries/del_1". */
  path: string;
  query: URLSearchParams;
}

function current(): Route {
  const raw = location.hash.replace(/^#/, '') || '/';
  const [path, qs] = raw.split('?', 2);
  return { path: path || '/', query: new URLSearchParams(qs ?? '') };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(current);
  useEffect(() => {
    const onChange = () => setRoute(current());
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

/** "#/deliveries?status=failed" from a path and query values (empty values left out). */
export function href(path: string, query?: Record<string, string | undefined | null>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v) params.set(k, v);
  const qs = params.toString();
  return `#${path}${qs ? `?${qs}` : ''}`;
}

export function navigate(path: string, query?: Record<string, string | undefined | null>, replace = false): void {
  const target = href(path, query);
  if (replace) {
    history.replaceState(null, '', target);
    dispatchEvent(new HashChangeEvent('hashchange'));
  } else location.hash = target;
}

/** Matches "/endpoints/:id" against "/endpoints/ep_1" → {id: "ep_1"}, or null. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const p = pattern.split('/');
  const a = path.split('/');
  if (p.length !== a.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    if (p[i].startsWith(':')) {
      try {
        params[p[i].slice(1)] = decodeURIComponent(a[i]);
      } catch {
        return null; // a malformed %-escape: no such page
      }
    } else if (p[i] !== a[i]) return null;
  }
  return params;
}
