import type { Project } from '../core/model.js';
import type { Store } from '../store/store.js';

/** Project settings change rarely and are read on every request: keep each for a second. */
export class ProjectCache {
  private readonly entries = new Map<string, { project: Project; at: number }>();
  constructor(private readonly store: Store) {}
  async get(id: string, now: number): Promise<Project | null> {
    const hit = this.entries.get(id);
    if (hit && now - hit.at < 1000) return hit.project;
    const project = await this.store.projects.get(id);
    if (project) this.entries.set(id, { project, at: now });
    else this.entries.delete(id);
    return project;
  }

  /** A change made by this process applies at once; other processes see it within a second. */
  forget(id: string): void {
    this.entries.delete(id);
  }
}
