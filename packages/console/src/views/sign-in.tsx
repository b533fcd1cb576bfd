import { useState } from 'preact/hooks';
import type { ApiFailure } from '../api';
import { isPortalPath, type Credential } from '../session';
import { Command, ErrorNote } from '../ui';

/** Sign-in with an API key. The key stays in this tab's session storage, never in a URL. */
export function SignInView({ onSignIn, initialError }: { onSignIn: (c: Credential) => Promise<ApiFailure | undefined>; initialError?: ApiFailure }) {
  const [key, setKey] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiFailure | undefined>(initialError);
  if (isPortalPath()) {
    // A refusal (401/403) ends the session; anything else (network, 5xx) kept it: try again.
    const refused = !error || error.status === 401 || error.status === 403;
    return (
      <main class="sign-in" id="main">
        <h1>{refused ? 'This portal link has expired or is not valid' : 'The portal could not load'}</h1>
        <ErrorNote error={error} />
        {refused ? (
          <p>Portal links are good for a limited time. Open the link you were given again, or ask the service that sent you here for a new one.</p>
        ) : (
          <button type="button" onClick={() => location.reload()}>
            Try again
          </button>
        )}
      </main>
    );
  }
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(await onSignIn({ kind: 'key', token: key.trim() }));
    setBusy(false);
  };
  return (
    <main class="sign-in" id="main">
      <h1>Sign in to Hookbridge</h1>
      <p class="muted">Your endpoints, deliveries and inbound webhooks, on this server's API.</p>
      <form onSubmit={submit}>
        <label for="api-key">API key</label>
        <input
          id="api-key"
          name="api-key"
          type="password"
          autocomplete="off"
          spellcheck={false}
          required
          aria-describedby="api-key-hint"
          value={key}
          onInput={(e) => setKey((e.target as HTMLInputElement).value)}
          placeholder="hb_live_…"
        />
        <span class="hint" id="api-key-hint">
          Kept in this browser tab only (session storage) and sent as a bearer token to the API.
        </span>
        <button type="submit" disabled={busy || key.trim() === ''}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        <ErrorNote error={error} />
      </form>
      <details>
        <summary>Where do I find a key?</summary>
        <p>The server prints the admin key when it first starts. To make a key for a project:</p>
        <Command text="hookbridge keys create --label console" />
      </details>
    </main>
  );
}
