/** Small shared pieces every view uses: data loading, empty states, errors, badges, dialogs. */
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useId, useRef, useState } from 'preact/hooks';
import { ApiFailure } from './api';

export interface Loaded<T> {
  data: T | undefined;
  error: ApiFailure | undefined;
  loading: boolean;
  reload: () => void;
}

/**
 * Runs `load` when `deps` change (and every `pollMs` when given: the live views), keeping the last
 * data while reloading so a poll does not flash the page.
 */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[], pollMs?: number): Loaded<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<ApiFailure>();
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  useEffect(() => {
    let live = true;
    setLoading(true);
    load().then(
      (d) => live && (setData(d), setError(undefined), setLoading(false)),
      (e) => live && (setError(e instanceof ApiFailure ? e : new ApiFailure(0, 'error', String(e))), setLoading(false)),
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  useEffect(() => {
    if (!pollMs) return;
    const t = setInterval(() => document.visibilityState === 'visible' && reload(), pollMs);
    return () => clearInterval(t);
  }, [pollMs, reload]);
  return { data, error, loading, reload };
}

/** Runs an action (a button's work), tracking busy state and the error to show. */
export function useAction<A extends unknown[], R>(fn: (...args: A) => Promise<R>) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiFailure>();
  const run = async (...args: A): Promise<R | undefined> => {
    setBusy(true);
    setError(undefined);
    try {
      return await fn(...args);
    } catch (e) {
      setError(e instanceof ApiFailure ? e : new ApiFailure(0, 'error', String(e)));
      return undefined;
    } finally {
      setBusy(false);
    }
  };
  return { run, busy, error, clearError: () => setError(undefined) };
}

export function PageHeader({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <header class="page-header">
      <h1>{title}</h1>
      {children && <div class="actions">{children}</div>}
    </header>
  );
}

/** An API error as the user should read it: the message, its code, and field details. */
export function ErrorNote({ error }: { error: ApiFailure | undefined }) {
  if (!error) return null;
  return (
    <div class="error-note" role="alert">
      <strong>{error.message}</strong> <code>{error.code}</code>
      {error.details.length > 0 && (
        <ul>
          {error.details.map((d, i) => (
            <li key={i}>
              {d.field ? <code>{d.field}</code> : null} {d.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** What a newcomer sees instead of an empty table: what this is, and the next step. */
export function Empty({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <section class="empty" aria-label={title}>
      <h2>{title}</h2>
      {children}
    </section>
  );
}

/** A command to copy, shown in an empty state. */
export function Command({ text }: { text: string }) {
  return (
    <div class="command">
      <pre>
        <code>{text}</code>
      </pre>
      <CopyButton text={text} label="Copy command" />
    </div>
  );
}

export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [done, setDone] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      // Clipboard access needs a secure context; fall back to a hidden textarea.
      const t = document.createElement('textarea');
      t.value = text;
      document.body.append(t);
      t.select();
      document.execCommand('copy');
      t.remove();
    }
    setDone(true);
    setTimeout(() => setDone(false), 1500);
  };
  return (
    <>
      <button type="button" class="secondary small" onClick={copy} aria-label={label}>
        {done ? 'Copied' : label}
      </button>
      <span role="status" class="visually-hidden">
        {done ? 'Copied' : ''}
      </span>
    </>
  );
}

/** A secret shown once (a new API key or signing secret), with a copy button. */
export function SecretOnce({ label, value }: { label: string; value: string }) {
  return (
    <div class="secret-once" role="status">
      <p>
        <strong>{label}</strong> — shown once; copy it now.
      </p>
      <div class="command">
        <code data-testid="secret-value">{value}</code>
        <CopyButton text={value} label={`Copy ${label}`} />
      </div>
    </div>
  );
}

const BADGE: Record<string, string> = {
  succeeded: 'ok',
  active: 'ok',
  success: 'ok',
  delivered: 'ok',
  failed: 'bad',
  disabled: 'bad',
  failure: 'bad',
  timeout: 'bad',
  blocked: 'bad',
  rejected: 'bad',
  pending_retry: 'warn',
  retry: 'warn',
  paused: 'warn',
  delivering: 'info',
  queued: 'info',
  cancelled: 'muted',
};

export function Badge({ value }: { value: string }) {
  return <span class={`badge ${BADGE[value] ?? 'muted'}`}>{value.replace('_', ' ')}</span>;
}

/** A time as "3 min ago", with the exact time on hover and for screen readers. */
export function Time({ iso }: { iso: string | null | undefined }) {
  if (!iso) return <span class="muted">—</span>;
  return (
    <time dateTime={iso} title={new Date(iso).toLocaleString()}>
      {relative(iso)}
    </time>
  );
}

export function relative(iso: string, now = Date.now()): string {
  const s = Math.round((now - Date.parse(iso)) / 1000);
  const future = s < 0;
  const a = Math.abs(s);
  const text = a < 5 ? 'just now' : a < 60 ? `${a} s` : a < 3600 ? `${Math.round(a / 60)} min` : a < 86400 ? `${Math.round(a / 3600)} h` : `${Math.round(a / 86400)} d`;
  if (text === 'just now') return text;
  return future ? `in ${text}` : `${text} ago`;
}

/**
 * A confirmation in a modal <dialog> (focus is trapped and Escape closes it, natively).
 * `open` controls it; onConfirm runs when the user agrees.
 */
export function Confirm(props: { open: boolean; title: string; children?: ComponentChildren; confirmLabel: string; danger?: boolean; busy?: boolean; onConfirm: () => void; onClose: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (props.open && !d.open) d.showModal();
    if (!props.open && d.open) d.close();
  }, [props.open]);
  return (
    <dialog ref={ref} onClose={props.onClose} aria-labelledby={titleId}>
      <h2 id={titleId}>{props.title}</h2>
      {props.children}
      <div class="actions">
        <button type="button" class="secondary" onClick={props.onClose}>
          Cancel
        </button>
        <button type="button" class={props.danger ? 'danger' : ''} disabled={props.busy} onClick={props.onConfirm}>
          {props.confirmLabel}
        </button>
      </div>
    </dialog>
  );
}

/** What ListTable needs of a cursor-paged list (views/paged-list.ts, views/polled-list.ts). */
export interface ListPages<T> {
  /** Undefined until the first page arrives. */
  items: T[] | undefined;
  loading: boolean;
  hasMore: boolean;
  loadMore: () => void;
  moreBusy: boolean;
}

/**
 * A cursor-paged list as a table: "Loading…" until the first page arrives (nothing if that failed:
 * the view shows the error), `empty` when there are no rows, else the table that `children` makes
 * of the rows, in its scrolling wrapper, then `note` and "Load more".
 */
export function ListTable<T>({ list, empty, note, children }: { list: ListPages<T>; empty?: ComponentChildren; note?: ComponentChildren; children: (items: T[]) => ComponentChildren }) {
  const { items } = list;
  if (items === undefined) return list.loading ? <Loading /> : null;
  if (items.length === 0) return <>{empty}</>;
  return (
    <>
      <div class="table-wrap">{children(items)}</div>
      {note}
      <More hasMore={list.hasMore} onMore={list.loadMore} busy={list.moreBusy} />
    </>
  );
}

/** "Load more" under a cursor-paged list. */
function More({ hasMore, onMore, busy }: { hasMore: boolean; onMore: () => void; busy?: boolean }) {
  if (!hasMore) return null;
  return (
    <div class="more">
      <button type="button" class="secondary" onClick={onMore} disabled={busy}>
        Load more
      </button>
    </div>
  );
}

export function Loading() {
  return (
    <p class="muted" aria-live="polite">
      Loading…
    </p>
  );
}

/** HTTP headers as their wire lines, "Name: value" one per line (headers shown, or typed in a form). */
export const headerLines = (headers: Record<string, string>): string =>
  Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\n');

/** JSON pretty-printed, or the raw text when it is not JSON. */
export function JsonBlock({ value, label }: { value: unknown; label: string }) {
  let text: string;
  if (typeof value === 'string') {
    try {
      text = JSON.stringify(JSON.parse(value), null, 2);
    } catch {
      text = value;
    }
  } else text = JSON.stringify(value, null, 2);
  return (
    <pre class="json" aria-label={label} tabIndex={0}>
      <code>{text}</code>
    </pre>
  );
}
