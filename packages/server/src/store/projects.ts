/** Projects, API keys and event types: the tenancy side of the store. */
import type { Kysely, Selectable } from 'kysely';
import { newId } from '../core/ids.js';
import type { ApiKey, EventType, Page, Project, ProjectSettings } from '../core/model.js';
import { apiKeyPrefix, hashApiKey } from '../core/secret-box.js';
import { hotQuery } from './hot-query.js';
import { json, toPage } from './rows.js';
import type { StoreDialect } from './dialect.js';
import type { ApiKeysTable, Database, ProjectsTable } from './schema.js';

const projectFromRow = (r: Selectable<ProjectsTable>): Project => ({
  id: r.id,
  name: r.name,
  settings: json<ProjectSettings>(r.settings) ?? {},
  createdAt: Number(r.created_at),
});

const keyFromRow = (r: Selectable<ApiKeysTable>): ApiKey => ({
  id: r.id,
  projectId: r.project_id,
  prefix: r.prefix,
  label: r.label,
  isAdmin: r.is_admin === 1,
  createdAt: Number(r.created_at),
  lastUsedAt: r.last_used_at === null ? null : Number(r.last_used_at),
  revokedAt: r.revoked_at === null ? null : Number(r.revoked_at),
});

export class ProjectRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: StoreDialect,
  ) {}

  async count(): Promise<number> {
    const r = await this.db.selectFrom('projects').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return Number(r.n);
  }

  async create(name: string, settings: ProjectSettings = {}): Promise<Project> {
    const row = { id: newId('proj'), name, settings: JSON.stringify(settings), created_at: Date.now() };
    await this.db.insertInto('projects').values(row).execute();
    return projectFromRow(row);
  }

  async get(id: string): Promise<Project | null> {
    const r = await this.db.selectFrom('projects').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? projectFromRow(r) : null;
  }

  async list(limit: number, cursor?: string): Promise<Page<Project>> {
    let q = this.db.selectFrom('projects').selectAll().orderBy('id', 'desc').limit(limit + 1);
    if (cursor) q = q.where('id', '<', cursor);
    return toPage(await q.execute(), limit, projectFromRow);
  }

  async update(id: string, patch: { name?: string; settings?: ProjectSettings }): Promise<Project | null> {
    const current = await this.get(id);
    if (!current) return null;
    const settings = { ...current.settings, ...patch.settings };
    // null in a patch clears a setting back to the server default
    for (const [k, v] of Object.entries(settings)) if (v === null) delete (settings as Record<string, unknown>)[k];
    await this.db
      .updateTable('projects')
      .set({ name: patch.name ?? current.name, settings: JSON.stringify(settings) })
      .where('id', '=', id)
      .execute();
    return { ...current, name: patch.name ?? current.name, settings };
  }

  /**
   * On an empty store, the first project and its admin key, in one transaction (never a project
   * nobody can open) that processes starting together run one at a time. Null when a project
   * exists already.
   */
  async bootstrap(name: string, key: string): Promise<Project | null> {
    const now = Date.now();
    const project = { id: newId('proj', now), name, settings: '{}', created_at: now };
    const created = await this.db.transaction().execute(async (trx) => {
      await this.dialect.serialize(trx, 'hookbridge.bootstrap');
      const existing = await trx.selectFrom('projects').select('id').limit(1).executeTakeFirst();
      if (existing) return false;
      await trx.insertInto('projects').values(project).execute();
      await trx.insertInto('api_keys').values(this.keyRow(project.id, key, { label: 'bootstrap (admin)', isAdmin: true })).execute();
      return true;
    });
    return created ? projectFromRow(project) : null;
  }

  // --- API keys -------------------------------------------------------------------------

  async createKey(projectId: string, key: string, opts: { label?: string | null; isAdmin?: boolean } = {}): Promise<ApiKey> {
    const row = this.keyRow(projectId, key, opts);
    await this.db.insertInto('api_keys').values(row).execute();
    return keyFromRow(row);
  }

  private keyRow(projectId: string, key: string, opts: { label?: string | null; isAdmin?: boolean }) {
    return {
      id: newId('key'),
      project_id: projectId,
      key_hash: hashApiKey(key),
      prefix: apiKeyPrefix(key),
      label: opts.label ?? null,
      is_admin: opts.isAdmin ? 1 : 0,
      created_at: Date.now(),
      last_used_at: null,
      revoked_at: null,
    };
  }

  /** The live (not revoked) key with this secret, or null. */
  async findKeyBySecret(key: string): Promise<ApiKey | null> {
    const [r] = await liveKeyByHash(this.db, { hash: hashApiKey(key) });
    return r ? keyFromRow(r) : null;
  }

  async getKey(id: string): Promise<ApiKey | null> {
    const r = await this.db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? keyFromRow(r) : null;
  }

  async listKeys(projectId: string, limit: number, cursor?: string): Promise<Page<ApiKey>> {
    let q = this.db.selectFrom('api_keys').selectAll().where('project_id', '=', projectId).orderBy('id', 'desc').limit(limit + 1);
    if (cursor) q = q.where('id', '<', cursor);
    return toPage(await q.execute(), limit, keyFromRow);
  }

  async revokeKey(id: string): Promise<void> {
    await this.db.updateTable('api_keys').set({ revoked_at: Date.now() }).where('id', '=', id).where('revoked_at', 'is', null).execute();
  }

  async touchKey(id: string, at: number): Promise<void> {
    await this.db.updateTable('api_keys').set({ last_used_at: at }).where('id', '=', id).execute();
  }

  // --- event types ----------------------------------------------------------------------

  async createEventType(projectId: string, et: { name: string; description?: string | null; schema?: unknown }): Promise<EventType | null> {
    const row = {
      project_id: projectId,
      name: et.name,
      description: et.description ?? null,
      schema: et.schema === undefined || et.schema === null ? null : JSON.stringify(et.schema),
      created_at: Date.now(),
    };
    const inserted = await this.db.insertInto('event_types').values(row).onConflict((oc) => oc.doNothing()).executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0) return null;
    return { name: row.name, description: row.description, schema: et.schema ?? null, createdAt: row.created_at };
  }

  async getEventType(projectId: string, name: string): Promise<EventType | null> {
    const r = await this.db.selectFrom('event_types').selectAll().where('project_id', '=', projectId).where('name', '=', name).executeTakeFirst();
    return r ? { name: r.name, description: r.description, schema: json(r.schema), createdAt: Number(r.created_at) } : null;
  }

  async listEventTypes(projectId: string, limit: number, cursor?: string): Promise<Page<EventType & { id: string }>> {
    let q = this.db.selectFrom('event_types').selectAll().where('project_id', '=', projectId).orderBy('name', 'asc').limit(limit + 1);
    if (cursor) q = q.where('name', '>', cursor);
    const rows = (await q.execute()).map((r) => ({ ...r, id: r.name }));
    return toPage(rows, limit, (r) => ({ id: r.name, name: r.name, description: r.description, schema: json(r.schema), createdAt: Number(r.created_at) }));
  }
}

/** Every authenticated request runs this (hot-query.ts). */
const liveKeyByHash = hotQuery((db, p: { hash: string }) => db.selectFrom('api_keys').selectAll().where('key_hash', '=', p.hash).where('revoked_at', 'is', null));
