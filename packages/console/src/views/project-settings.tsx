/**
 * A project's settings (PATCH /v1/projects/:id). An empty field is sent as null: the server's
 * default. Only the fields that changed are sent, so saving one setting cannot overwrite another
 * that someone changed meanwhile (from the CLI, say).
 */
import { useState } from 'preact/hooks';
import { api } from '../api';
import type { Project } from '../types';
import { ErrorNote, useAction } from '../ui';

type SettingKey =
  | 'name'
  | 'retry_schedule'
  | 'api_rate_limit_per_minute'
  | 'strict_event_types'
  | 'disable_after_seconds'
  | 'disable_min_failures'
  | 'payload_retention_days'
  | 'record_retention_days'
  | 'portal_brand_name'
  | 'portal_brand_color'
  | 'portal_logo_url'
  | 'portal_frame_ancestors';

interface NumberSetting {
  key: SettingKey;
  label: string;
  hint: string;
  min: number;
  /** The API refuses the minimum itself (payload retention must be above 0 days). */
  exclusiveMin?: boolean;
  max: number;
  integer: boolean;
}

const NUMBER_SETTINGS: NumberSetting[] = [
  { key: 'api_rate_limit_per_minute', label: 'API rate limit (per minute)', hint: 'Requests per minute for all of this project’s keys; 0 = unlimited. Default: HOOKBRIDGE_API_RATE_LIMIT_PER_MINUTE.', min: 0, max: 10_000_000, integer: true },
  { key: 'disable_after_seconds', label: 'Auto-disable after (seconds without success)', hint: 'An endpoint with no successful attempt for this long is disabled; 0 = never. Default: 432000 (5 days).', min: 0, max: 365 * 86400, integer: true },
  { key: 'disable_min_failures', label: 'Auto-disable after (failed attempts in a row)', hint: 'Both limits must be reached before an endpoint is disabled. Default: 20.', min: 1, max: 1_000_000, integer: true },
  { key: 'payload_retention_days', label: 'Payload retention (days)', hint: 'Payloads and response excerpts of finished messages are removed after this; fractions allowed (0.5 = 12 h). Default: 30.', min: 0, exclusiveMin: true, max: 36500, integer: false },
  { key: 'record_retention_days', label: 'Record retention (days)', hint: 'Finished messages with their deliveries and attempts are removed after this (at least 1). Default: 90.', min: 1, max: 36500, integer: false },
];

/** What the form holds: the text of each field (numbers stay text until they are checked). */
type Draft = Record<Exclude<SettingKey, 'strict_event_types' | 'portal_brand_color'>, string> & { strict_event_types: boolean; portal_brand_color: string | null };

function draftOf(p: Project): Draft {
  const num = (v: number | null | undefined) => (v === null || v === undefined ? '' : String(v));
  return {
    name: p.name,
    retry_schedule: p.retry_schedule?.join(', ') ?? '',
    api_rate_limit_per_minute: num(p.api_rate_limit_per_minute),
    strict_event_types: p.strict_event_types,
    disable_after_seconds: num(p.disable_after_seconds),
    disable_min_failures: num(p.disable_min_failures),
    payload_retention_days: num(p.payload_retention_days),
    record_retention_days: num(p.record_retention_days),
    portal_brand_name: p.portal_brand_name ?? '',
    portal_brand_color: p.portal_brand_color ?? null,
    portal_logo_url: p.portal_logo_url ?? '',
    portal_frame_ancestors: (p.portal_frame_ancestors ?? []).join('\n'),
  };
}

/** The draft as API values, or the problems to show next to the fields. */
function parseDraft(d: Draft): { values: Partial<Record<SettingKey, unknown>>; problems: Partial<Record<SettingKey, string>> } {
  const values: Partial<Record<SettingKey, unknown>> = {};
  const problems: Partial<Record<SettingKey, string>> = {};
  if (d.name.trim() === '') problems.name = 'A project needs a name.';
  values.name = d.name.trim();

  const delays = d.retry_schedule.split(/[\s,]+/).filter(Boolean).map(Number);
  if (delays.some((n) => !Number.isFinite(n) || n < 0 || n > 7 * 86400)) problems.retry_schedule = 'Delays are numbers of seconds from 0 to 604800, separated by commas.';
  else if (delays.length > 50) problems.retry_schedule = 'At most 50 delays.';
  values.retry_schedule = delays.length ? delays : null;

  for (const s of NUMBER_SETTINGS) {
    const text = d[s.key as keyof Draft] as string;
    if (text.trim() === '') {
      values[s.key] = null;
      continue;
    }
    const n = Number(text);
    const tooLow = s.exclusiveMin ? n <= s.min : n < s.min;
    if (!Number.isFinite(n) || tooLow || n > s.max || (s.integer && !Number.isInteger(n))) {
      problems[s.key] = `${s.integer ? 'A whole number' : 'A number'} ${s.exclusiveMin ? 'above' : 'from'} ${s.min} ${s.exclusiveMin ? 'and at most' : 'to'} ${s.max}.`;
    }
    values[s.key] = n;
  }
  values.strict_event_types = d.strict_event_types;

  values.portal_brand_name = d.portal_brand_name.trim() || null;
  values.portal_brand_color = d.portal_brand_color;
  const logo = d.portal_logo_url.trim();
  if (logo && !/^https:\/\/\S+$/.test(logo)) problems.portal_logo_url = 'The logo must be an https:// URL.';
  values.portal_logo_url = logo || null;

  const origins = d.portal_frame_ancestors.split('\n').map((o) => o.trim().replace(/\/+$/, '')).filter(Boolean);
  const badOrigin = origins.find((o) => !isOrigin(o));
  if (badOrigin) problems.portal_frame_ancestors = `“${badOrigin}” is not an origin: scheme and host (and port) only, like https://app.example.com.`;
  else if (origins.length > 20) problems.portal_frame_ancestors = 'At most 20 origins.';
  values.portal_frame_ancestors = origins.length ? origins : null;
  return { values, problems };
}

/** The server's rule (each origin goes into a CSP header): scheme, host or *.host, optional port. */
const isOrigin = (o: string) => /^https?:\/\/(\*\.)?[A-Za-z0-9.-]+(:[0-9]{1,5})?$/.test(o);

const current = (p: Project, key: SettingKey): unknown => (p as unknown as Record<string, unknown>)[key] ?? null;
const DEFAULT_COLOR = '#2563eb';

export function ProjectSettingsForm({ project, onSaved }: { project: Project; onSaved: () => void }) {
  const [draft, setDraft] = useState<Draft>(() => draftOf(project));
  const [problems, setProblems] = useState<Partial<Record<SettingKey, string>>>({});
  const [notice, setNotice] = useState<string>();
  const save = useAction((body: Record<string, unknown>) => api.patch<Project>(`/projects/${encodeURIComponent(project.id)}`, body));
  const set = <K extends keyof Draft>(key: K, value: Draft[K]) => (setDraft((d) => ({ ...d, [key]: value })), setNotice(undefined));

  const submit = async (e: Event) => {
    e.preventDefault();
    const parsed = parseDraft(draft);
    setProblems(parsed.problems);
    const firstBad = Object.keys(parsed.problems)[0];
    if (firstBad) {
      document.getElementById(fieldId(firstBad as SettingKey))?.focus();
      return;
    }
    const changed = Object.fromEntries(Object.entries(parsed.values).filter(([k, v]) => JSON.stringify(v) !== JSON.stringify(current(project, k as SettingKey))));
    if (Object.keys(changed).length === 0) return setNotice('Nothing changed.');
    const saved = await save.run(changed);
    if (!saved) return;
    setDraft(draftOf(saved));
    setNotice(`Saved: ${Object.keys(changed).join(', ')}.`);
    onSaved();
  };

  const text = (key: Exclude<keyof Draft, 'strict_event_types' | 'portal_brand_color'>, label: string, hint: string, attrs: Record<string, unknown> = {}) => (
    <div class="field">
      <label for={fieldId(key)}>{label}</label>
      <span class="hint" id={`${fieldId(key)}-hint`}>
        {hint}
      </span>
      <input id={fieldId(key)} value={draft[key]} onInput={(e) => set(key, e.currentTarget.value)} {...described(key, problems)} {...attrs} />
      <Problem id={key} problems={problems} />
    </div>
  );

  return (
    <form class="panel form settings-form" onSubmit={submit} aria-labelledby="project-settings-title" noValidate>
      <fieldset>
        <legend>Project</legend>
        {text('name', 'Name', 'Shown in this console; the portal shows the brand name below when set.', { required: true, maxLength: 256, autocomplete: 'off' })}
      </fieldset>
      <fieldset>
        <legend>Delivery defaults</legend>
        {text('retry_schedule', 'Retry schedule (seconds)', 'Waits before each retry, comma-separated, e.g. 5, 60, 600. Empty: the standard schedule.', { autocomplete: 'off', spellcheck: false, placeholder: 'standard schedule' })}
        {NUMBER_SETTINGS.map((s) =>
          text(s.key as Exclude<keyof Draft, 'strict_event_types' | 'portal_brand_color'>, s.label, s.hint, { inputMode: s.integer ? 'numeric' : 'decimal', autocomplete: 'off', placeholder: 'server default' }),
        )}
        <div class="field check">
          <input id={fieldId('strict_event_types')} type="checkbox" checked={draft.strict_event_types} onChange={(e) => set('strict_event_types', e.currentTarget.checked)} aria-describedby={`${fieldId('strict_event_types')}-hint`} />
          <label for={fieldId('strict_event_types')}>Strict event types</label>
          <span class="hint" id={`${fieldId('strict_event_types')}-hint`}>
            Refuse messages (400) whose event type is not registered under Event types.
          </span>
        </div>
      </fieldset>
      <fieldset>
        <legend>Consumer portal</legend>
        {text('portal_brand_name', 'Brand name', 'Shown in the portal’s top bar and tab title. Empty: the project’s name.', { maxLength: 100 })}
        <div class="field">
          <label for={fieldId('portal_brand_color')}>Brand colour</label>
          <span class="hint" id={`${fieldId('portal_brand_color')}-hint`}>
            Buttons and links of the portal. {draft.portal_brand_color ? '' : 'Now: the default blue.'}
          </span>
          <div class="color-field">
            <input
              id={fieldId('portal_brand_color')}
              type="color"
              value={draft.portal_brand_color ?? DEFAULT_COLOR}
              onInput={(e) => set('portal_brand_color', e.currentTarget.value)}
              aria-describedby={`${fieldId('portal_brand_color')}-hint`}
            />
            <code>{draft.portal_brand_color ?? 'default'}</code>
            <button type="button" class="secondary small" disabled={draft.portal_brand_color === null} onClick={() => set('portal_brand_color', null)}>
              Use default colour
            </button>
          </div>
        </div>
        {text('portal_logo_url', 'Logo URL', 'An https:// image shown 24 px high next to the brand name.', { type: 'url', placeholder: 'https://example.com/logo.svg', spellcheck: false })}
        <div class="field wide">
          <label for={fieldId('portal_frame_ancestors')}>Allowed embedding origins</label>
          <span class="hint" id={`${fieldId('portal_frame_ancestors')}-hint`}>
            Sites that may show the portal in an iframe (portal_frame_ancestors), one origin per line, e.g. https://app.example.com or https://*.example.com. Empty: nobody may embed it.
          </span>
          <textarea
            id={fieldId('portal_frame_ancestors')}
            rows={3}
            spellcheck={false}
            placeholder="https://app.example.com"
            value={draft.portal_frame_ancestors}
            onInput={(e) => set('portal_frame_ancestors', e.currentTarget.value)}
            {...described('portal_frame_ancestors', problems)}
          />
          <Problem id="portal_frame_ancestors" problems={problems} />
        </div>
      </fieldset>
      <ErrorNote error={save.error} />
      {notice && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      <div class="actions">
        <button type="submit" disabled={save.busy}>
          {save.busy ? 'Saving…' : 'Save changes'}
        </button>
        <button type="button" class="secondary" onClick={() => (setDraft(draftOf(project)), setProblems({}), setNotice(undefined))}>
          Undo changes
        </button>
      </div>
    </form>
  );
}

const fieldId = (key: SettingKey) => `proj-${key.replace(/_/g, '-')}`;

function described(key: SettingKey, problems: Partial<Record<SettingKey, string>>) {
  const id = fieldId(key);
  return { 'aria-describedby': problems[key] ? `${id}-hint ${id}-problem` : `${id}-hint`, 'aria-invalid': problems[key] ? true : undefined };
}

function Problem({ id, problems }: { id: SettingKey; problems: Partial<Record<SettingKey, string>> }) {
  const message = problems[id];
  if (!message) return null;
  return (
    <p class="field-error" id={`${fieldId(id)}-problem`}>
      {message}
    </p>
  );
}
