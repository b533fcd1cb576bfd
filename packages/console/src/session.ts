/**
 * Who the console speaks for: an API key (the operator) or a portal token (one consumer). Kept in
 * session storage, so it dies with the tab and is never part of a URL the server sees: a portal
 * link carries its token in the fragment (#token=…), which browsers do not send.
 */
export type Credential = { kind: 'key'; token: string } | { kind: 'portal'; token: string };

const STORAGE_KEY = 'hookbridge.credential';

export function loadCredential(): Credential | null {
  try {
    const raw = sessionStorage.getItem(STORAGE_KEY);
    if (!raw) return null;
    const c = JSON.parse(raw) as Credential;
    return c && typeof c.token === 'string' && (c.kind === 'key' || c.kind === 'portal') ? c : null;
  } catch {
    return null;
  }
}

export function saveCredential(c: Credential | null): void {
  if (c) sessionStorage.setItem(STORAGE_KEY, JSON.stringify(c));
  else sessionStorage.removeItem(STORAGE_KEY);
}

/**
 * A portal link is /portal/<project>#token=<token>: take the token into session storage and drop
 * it from the address bar (and from history), so it cannot leak through a copied URL.
 */
export function takePortalTokenFromUrl(): boolean {
  const m = /^#token=([A-Za-z0-9_.-]+)$/.exec(location.hash);
  if (!m) return false;
  saveCredential({ kind: 'portal', token: m[1] });
  history.replaceState(null, '', `${location.pathname}#/endpoints`);
  return true;
}

export const isPortalPath = () => location.pathname.startsWith('/portal/');
