/**
 * Projects (admin key only; the API answers 403 to any other key): list, create, and one project's
 * settings and keys at #/projects?project=<id>, so an open project survives a reload.
 */
import { useState } from 'preact/hooks';
import { api } from '../api';
import { href, navigate } from '../router';
import type { Project } from '../types';
import { Command, ErrorNote, ListTable, Loading, PageHeader, Time, useAction, useLoad } from '../ui';
import { KeysPanel } from './api-keys';
import { curl } from './curl';
import { usePagedList } from './paged-list';
import { ProjectSettingsForm } from './project-settings';

export function ProjectsView({ query }: { params: Record<string, string>; query: URLSearchParams }) {
  const id = query.get('project');
  return id ? <ProjectDetail id={id} justCreated={query.get('created') === '1'} /> : <ProjectList />;
}

function ProjectList() {
  const list = usePagedList<Project>('/projects');
  const [formOpen, setFormOpen] = useState(false);
  return (
    <section>
      <PageHeader title="Projects">
        {!formOpen && (
          <button type="button" onClick={() => setFormOpen(true)}>
            New project
          </button>
        )}
      </PageHeader>
      <p class="muted lead">
        A project is a tenant of this server: its own endpoints, messages, keys and defaults. Only the admin key sees this page; every other key acts on its own project.
      </p>
      {formOpen && <CreateProjectForm onCancel={() => setFormOpen(false)} />}
      <ErrorNote error={list.error} />
      <ListTable list={list}>
        {(items) => (
          <table>
            <caption class="visually-hidden">Projects</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col" class="optional">
                  ID
                </th>
                <th scope="col" class="optional">
                  Retry schedule
                </th>
                <th scope="col" class="optional">
                  Strict event types
                </th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {items.map((p) => (
                <tr key={p.id}>
                  <td>
                    <a href={href('/projects', { project: p.id })}>{p.name}</a>
                  </td>
                  <td class="optional">
                    <code>{p.id}</code>
                  </td>
                  <td class="optional">{p.retry_schedule ? <code>{p.retry_schedule.join(', ')}</code> : <span class="muted">server default</span>}</td>
                  <td class="optional">{p.strict_event_types ? 'yes' : <span class="muted">no</span>}</td>
                  <td class="nowrap">
                    <Time iso={p.created_at} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </ListTable>
      <details class="cli">
        <summary>From a terminal</summary>
        <Command text="hookbridge projects create --name acme --retry-schedule 5,60,600" />
        <Command text="hookbridge keys create --project proj_… --label acme-backend" />
        <Command text={curl('POST', '/projects', { name: 'acme' })} />
      </details>
    </section>
  );
}

function CreateProjectForm({ onCancel }: { onCancel: () => void }) {
  const [name, setName] = useState('');
  const create = useAction((n: string) => api.post<Project>('/projects', { name: n }));
  const submit = async (e: Event) => {
    e.preventDefault();
    const p = await create.run(name.trim());
    // Straight to its settings: a new project needs a key before anyone can use it.
    if (p) navigate('/projects', { project: p.id, created: '1' });
  };
  return (
    <form class="panel form inline-form" onSubmit={submit} aria-labelledby="project-create-title">
      <h2 id="project-create-title" class="form-title">
        New project
      </h2>
      <div class="field grow">
        <label for="project-name">Name</label>
        <input id="project-name" required maxLength={256} placeholder="acme" value={name} onInput={(e) => setName(e.currentTarget.value)} autocomplete="off" />
      </div>
      <div class="field field-submit">
        <button type="submit" disabled={create.busy}>
          {create.busy ? 'Creating…' : 'Create project'}
        </button>
        <button type="button" class="secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
      <ErrorNote error={create.error} />
    </form>
  );
}

function ProjectDetail({ id, justCreated }: { id: string; justCreated: boolean }) {
  const project = useLoad(() => api.get<Project>(`/projects/${encodeURIComponent(id)}`), [id]);
  const p = project.data;
  return (
    <section>
      <p class="breadcrumb">
        <a href={href('/projects')}>← All projects</a>
      </p>
      <PageHeader title={p ? p.name : 'Project'}>{p && <code class="muted">{p.id}</code>}</PageHeader>
      <ErrorNote error={project.error} />
      {project.loading && !p && <Loading />}
      {p && (
        <>
          {justCreated && (
            <p class="notice" role="status">
              Project created. Create a key for it below, then hand the key to the service that sends its webhooks.
            </p>
          )}
          <dl class="facts">
            <dt>Created</dt>
            <dd>
              <Time iso={p.created_at} />
            </dd>
          </dl>
          <h2 id="project-keys-title">API keys</h2>
          <KeysPanel listPath={`/projects/${encodeURIComponent(p.id)}/api-keys`} createPath={`/projects/${encodeURIComponent(p.id)}/api-keys`} idPrefix="project-key" />
          <h2 id="project-settings-title">Settings</h2>
          <p class="muted">Empty fields use the server's default. Endpoints may override the retry schedule and the auto-disable limits.</p>
          <ProjectSettingsForm project={p} onSaved={project.reload} />
        </>
      )}
    </section>
  );
}
