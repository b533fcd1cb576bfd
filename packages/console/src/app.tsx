/**
 * The shell: sign-in, the navigation, and which view a route shows. The same app is the operator's
 * console (an API key) and a consumer's portal (a portal token, which the API limits to one
 * consumer's endpoints and deliveries: the portal hides the rest, the API refuses it).
 */
import type { ComponentType } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiFailure, onUnauthorized } from './api';
import { match, useRoute } from './router';
import { loadCredential, saveCredential, takePortalTokenFromUrl, type Credential } from './session';
import { SessionContext, type SessionInfo } from './session-context';
import type { PortalSession } from './types';
import { ErrorNote, Loading } from './ui';
import { ApiKeysView } from './views/api-keys';
import { DashboardView } from './views/dashboard';
import { DeliveriesView } from './views/deliveries';
import { DeliveryDetailView } from './views/delivery-detail';
import { EndpointDetailView } from './views/endpoint-detail';
import { EndpointFormView } from './views/endpoint-form';
import { EndpointsView } from './views/endpoints';
import { EventTypesView } from './views/event-types';
import { InboundDetailView } from './views/inbound-detail';
import { InboundView } from './views/inbound';
import { PortalLinksView } from './views/portal-links';
import { ProjectsView } from './views/projects';
import { SignInView } from './views/sign-in';

type View = ComponentType<{ params: Record<string, string>; query: URLSearchParams }>;

interface RouteDef {
  pattern: string;
  view: View;
  /** Shown in a consumer portal too (the API allows a portal token there). */
  portal?: boolean;
  admin?: boolean;
}

const ROUTES: RouteDef[] = [
  { pattern: '/', view: DashboardView },
  { pattern: '/endpoints', view: EndpointsView, portal: true },
  { pattern: '/endpoints/new', view: EndpointFormView, portal: true },
  { pattern: '/endpoints/:id', view: EndpointDetailView, portal: true },
  { pattern: '/endpoints/:id/edit', view: EndpointFormView, portal: true },
  { pattern: '/deliveries', view: DeliveriesView, portal: true },
  { pattern: '/deliveries/:id', view: DeliveryDetailView, portal: true },
  { pattern: '/inbound', view: InboundView },
  { pattern: '/inbound/:id', view: InboundDetailView },
  { pattern: '/event-types', view: EventTypesView },
  { pattern: '/api-keys', view: ApiKeysView },
  { pattern: '/portal-links', view: PortalLinksView },
  { pattern: '/projects', view: ProjectsView, admin: true },
];

const NAV: { path: string; label: string; portal?: boolean; admin?: boolean }[] = [
  { path: '/', label: 'Dashboard' },
  { path: '/endpoints', label: 'Endpoints', portal: true },
  { path: '/deliveries', label: 'Deliveries', portal: true },
  { path: '/inbound', label: 'Inbound' },
  { path: '/event-types', label: 'Event types' },
  { path: '/api-keys', label: 'API keys' },
  { path: '/portal-links', label: 'Portal' },
  { path: '/projects', label: 'Projects', admin: true },
];

/** Checks a credential with the API and learns what it may do. */
async function describe(credential: Credential): Promise<Omit<SessionInfo, 'signOut'>> {
  if (credential.kind === 'portal') {
    const portal = await api.get<PortalSession>('/portal-sessions/current');
    return { credential, admin: false, portal };
  }
  await api.get('/endpoints', { limit: 1 });
  try {
    await api.get('/projects', { limit: 1 });
    return { credential, admin: true, portal: null };
  } catch (e) {
    if (e instanceof ApiFailure && e.status === 403) return { credential, admin: false, portal: null };
    throw e;
  }
}

export function App() {
  const [session, setSession] = useState<SessionInfo | null>(null);
  const [checking, setChecking] = useState(true);
  const [error, setError] = useState<ApiFailure>();

  const signOut = () => {
    saveCredential(null);
    setSession(null);
  };

  const signIn = async (credential: Credential): Promise<ApiFailure | undefined> => {
    saveCredential(credential);
    try {
      const info = await describe(credential);
      setSession({ ...info, signOut });
      setError(undefined);
      return undefined;
    } catch (e) {
      const failure = e instanceof ApiFailure ? e : new ApiFailure(0, 'error', String(e));
      // Only a refusal ends the credential: a network error or a 5xx must not lose a portal
      // session, whose token is no longer in the address bar.
      if (failure.status === 401 || failure.status === 403) saveCredential(null);
      return failure;
    }
  };

  useEffect(() => {
    // A refused credential (revoked key, expired portal session) signs the tab out, saying why.
    const stop = onUnauthorized(() => {
      signOut();
      setError(new ApiFailure(401, 'unauthorized', 'the server refused this credential (revoked or expired): sign in again'));
    });
    takePortalTokenFromUrl();
    const saved = loadCredential();
    if (!saved) setChecking(false);
    else
      void signIn(saved).then((e) => {
        setError(e);
        setChecking(false);
      });
    return stop;
  }, []);

  useEffect(() => {
    const color = session?.portal?.brand.color;
    const root = document.documentElement.style;
    if (color) {
      root.setProperty('--accent', color);
      root.setProperty('--accent-fg', readableOn(color));
    } else {
      root.removeProperty('--accent');
      root.removeProperty('--accent-fg');
    }
  }, [session]);

  if (checking) return <Loading />;
  if (!session) return <SignInView onSignIn={signIn} initialError={error} />;
  return (
    <SessionContext.Provider value={session}>
      <Shell session={session} />
    </SessionContext.Provider>
  );
}

function Shell({ session }: { session: SessionInfo }) {
  const route = useRoute();
  const firstRender = useRef(true);
  const section = '/' + (route.path.split('/')[1] ?? '');
  const brand = session.portal?.brand;
  useEffect(() => {
    document.title = `${NAV.find((n) => n.path === section)?.label ?? 'Not found'} · ${brand ? brand.name : 'Hookbridge'}`;
    // Tell screen readers the page changed, and keep the current nav link in view on narrow screens.
    if (firstRender.current) {
      firstRender.current = false;
      return;
    }
    document.getElementById('main')?.focus();
    document.querySelector('.topbar nav [aria-current=page]')?.scrollIntoView({ block: 'nearest', inline: 'nearest' });
  }, [route.path]);
  const visible = (r: { portal?: boolean; admin?: boolean }) => (session.portal ? r.portal === true : !r.admin || session.admin);
  let body = <NotFound />;
  for (const r of ROUTES) {
    const params = match(r.pattern, route.path);
    if (!params) continue;
    if (!visible(r)) break;
    const V = r.view;
    body = <V params={params} query={route.query} />;
    break;
  }
  // A portal starts at its endpoints (it has no dashboard).
  if (session.portal && route.path === '/') body = <EndpointsView params={{}} query={route.query} />;
  return (
    <div class="shell">
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <span class="brand">
          {brand?.logo_url && <img src={brand.logo_url} alt="" height={24} />}
          {brand ? brand.name : 'Hookbridge'}
        </span>
        <nav aria-label="Main">
          <ul>
            {NAV.filter(visible).map((n) => (
              <li key={n.path}>
                <a href={`#${n.path}`} aria-current={section === n.path || (n.path === '/' && section === '/') ? 'page' : undefined}>
                  {n.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <span class="who">
          {session.portal ? (
            <span class="muted">
              <span class="visually-hidden">Signed in as consumer </span>
              {session.portal.consumer_id}
              {session.portal.read_only ? ' (read only)' : ''}
            </span>
          ) : null}
          <button type="button" class="secondary small" onClick={session.signOut}>
            Sign out
          </button>
        </span>
      </header>
      <main id="main" tabIndex={-1}>
        {body}
      </main>
    </div>
  );
}

function NotFound() {
  return (
    <section>
      <h1>Not found</h1>
      <ErrorNote error={new ApiFailure(404, 'not_found', 'there is no such page here')} />
      <p>
        <a href="#/">Back to the start</a>
      </p>
    </section>
  );
}

/** Text colour readable on a brand colour (#rrggbb): dark on light colours, white on dark ones (WCAG luminance). */
function readableOn(hex: string): string {
  const n = parseInt(hex.slice(1), 16);
  const [r, g, b] = [n >> 16, (n >> 8) & 255, n & 255].map((c) => ((c /= 255) <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  return 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.179 ? '#111318' : '#ffffff';
}
