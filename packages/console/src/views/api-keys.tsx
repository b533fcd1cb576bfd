/**
 * API keys of the signed-in project: list, create (the key is shown once: the server keeps only
 * its hash), revoke. The key panel is shared with the Projects view, where the admin key manages
 * another project's keys through /projects/:id/api-keys.
 */
import { useState } from 'preact/hooks';
import { api } from '../api';
import { useSession } from '../session-context';
import type { ApiKey } from '../types';
import { Command, Confirm, ErrorNote, ListTable, PageHeader, SecretOnce, Time, useAction } from '../ui';
import { curl } from './curl';
import { usePagedList } from './paged-list';

export function ApiKeysView(_props: { params: Record<string, string>; query: URLSearchParams }) {
  return (
    <section>
      <PageHeader title="API keys" />
      <p class="muted lead">
        Keys let your services call this project's API (<code>Authorization: Bearer hb_live_…</code>). The server stores only a hash: a new key is shown once. Revoking a key
        stops it at once.
      </p>
      <KeysPanel listPath="/api-keys" createPath="/api-keys" />
      <details class="cli">
        <summary>From a terminal</summary>
        <Command text="hookbridge keys create --label billing-service --mode live" />
        <Command text={curl('POST', '/api-keys', { label: 'billing-service', mode: 'live' })} />
        <Command text="hookbridge keys revoke key_…" />
      </details>
    </section>
  );
}

/** A project's keys with create and revoke. `idPrefix` keeps the form's ids unique on a page. */
export function KeysPanel({ listPath, createPath, idPrefix = 'key' }: { listPath: string; createPath: string; idPrefix?: string }) {
  const session = useSession();
  const list = usePagedList<ApiKey>(listPath);
  const [revoking, setRevoking] = useState<ApiKey>();
  // Resolves true once revoked, undefined when the API refused (the error stays in the dialog).
  const revoke = useAction(async (k: ApiKey) => (await api.del(`/api-keys/${encodeURIComponent(k.id)}`), true));
  const token = session.credential.kind === 'key' ? session.credential.token : '';
  const isOwn = (k: ApiKey) => token !== '' && token.startsWith(k.prefix);

  const confirmRevoke = async () => {
    if (!revoking || !(await revoke.run(revoking))) return;
    setRevoking(undefined);
    if (isOwn(revoking)) session.signOut();
    else list.reload();
  };

  return (
    <>
      <CreateKeyForm createPath={createPath} idPrefix={idPrefix} onCreated={list.reload} />
      <ErrorNote error={list.error} />
      <ListTable list={list} empty={<p class="muted">This project has no keys yet.</p>}>
        {(items) => (
          <table>
            <caption class="visually-hidden">API keys</caption>
            <thead>
              <tr>
                <th scope="col">Prefix</th>
                <th scope="col">Label</th>
                <th scope="col" class="optional">
                  Admin
                </th>
                <th scope="col" class="optional">
                  Created
                </th>
                <th scope="col">Last used</th>
                <th scope="col">Revoked</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((k) => (
                <tr key={k.id} class={k.revoked_at ? 'revoked' : undefined}>
                  <td>
                    <code class="nowrap">{k.prefix}…</code>
                    {isOwn(k) && (
                      <>
                        {' '}
                        <span class="badge info">this console</span>
                      </>
                    )}
                  </td>
                  <td>{k.label ?? <span class="muted">—</span>}</td>
                  <td class="optional">{k.admin ? <span class="badge warn">admin</span> : <span class="muted">no</span>}</td>
                  <td class="optional nowrap">
                    <Time iso={k.created_at} />
                  </td>
                  <td class="nowrap">{k.last_used_at ? <Time iso={k.last_used_at} /> : <span class="muted">never</span>}</td>
                  <td class="nowrap">
                    {k.revoked_at ? (
                      <span class="badge bad">
                        revoked <Time iso={k.revoked_at} />
                      </span>
                    ) : (
                      <span class="muted">no</span>
                    )}
                  </td>
                  <td class="row-actions">
                    {!k.revoked_at && (
                      <button type="button" class="danger small" aria-label={`Revoke key ${k.prefix}${k.label ? ` (${k.label})` : ''}`} onClick={() => (revoke.clearError(), setRevoking(k))}>
                        Revoke
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </ListTable>
      <Confirm
        open={revoking !== undefined}
        title="Revoke this API key?"
        confirmLabel="Revoke key"
        danger
        busy={revoke.busy}
        onConfirm={() => void confirmRevoke()}
        onClose={() => setRevoking(undefined)}
      >
        {revoking && (
          <>
            <p>
              <code>{revoking.prefix}…</code> {revoking.label ? `(${revoking.label})` : ''} stops working at once: requests with it are answered 401.
            </p>
            {revoking.admin ? (
              <p class="muted">This is the admin key: the server refuses to revoke it.</p>
            ) : (
              isOwn(revoking) && <p class="warn-text">This is the key this console is signed in with: you will be signed out.</p>
            )}
            <ErrorNote error={revoke.error} />
          </>
        )}
      </Confirm>
    </>
  );
}

/** Label + mode → a new key, shown once. */
function CreateKeyForm({ createPath, idPrefix, onCreated }: { createPath: string; idPrefix: string; onCreated: () => void }) {
  const [label, setLabel] = useState('');
  const [mode, setMode] = useState<'live' | 'test'>('live');
  const [created, setCreated] = useState<ApiKey>();
  const create = useAction((body: { label: string | null; mode: 'live' | 'test' }) => api.post<ApiKey>(createPath, body));

  const submit = async (e: Event) => {
    e.preventDefault();
    const key = await create.run({ label: label.trim() || null, mode });
    if (!key) return;
    setCreated(key);
    setLabel('');
    onCreated();
  };

  return (
    <form class="panel form inline-form" onSubmit={submit} aria-label="Create an API key">
      <div class="field">
        <label for={`${idPrefix}-label`}>Label</label>
        <input id={`${idPrefix}-label`} maxLength={256} placeholder="billing-service" value={label} onInput={(e) => setLabel(e.currentTarget.value)} autocomplete="off" />
      </div>
      <div class="field">
        <label for={`${idPrefix}-mode`}>Mode</label>
        <select id={`${idPrefix}-mode`} value={mode} onChange={(e) => setMode(e.currentTarget.value as 'live' | 'test')}>
          <option value="live">live (hb_live_…)</option>
          <option value="test">test (hb_test_…)</option>
        </select>
      </div>
      <div class="field field-submit">
        <button type="submit" disabled={create.busy}>
          {create.busy ? 'Creating…' : 'Create API key'}
        </button>
      </div>
      <ErrorNote error={create.error} />
      {created?.key && (
        <div class="form-result">
          <SecretOnce label="API key" value={created.key} />
          <p class="hint">
            {created.label ? `“${created.label}”` : 'The key'} is listed below by its prefix <code>{created.prefix}…</code> only.
          </p>
        </div>
      )}
    </form>
  );
}
