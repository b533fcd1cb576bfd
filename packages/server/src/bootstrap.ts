/**
 * First start on an empty store: create the `default` project and its admin key. The key is
 * returned only when Hookbridge generated it, so the caller prints it once; a key given through
 * HOOKBRIDGE_BOOTSTRAP_API_KEY is the operator's own and is never echoed.
 */
import { generateApiKey } from './core/secret-box.js';
import type { Store } from './store/store.js';

export interface BootstrapResult {
  created: boolean;
  projectId?: string;
  /** The generated key, to print once; undefined when none was generated. */
  generatedKey?: string;
}

export async function bootstrapIfEmpty(store: Store, bootstrapApiKey: string | undefined): Promise<BootstrapResult> {
  if ((await store.projects.count()) > 0) return { created: false };
  const key = bootstrapApiKey ?? generateApiKey('live');
  const project = await store.projects.bootstrap('default', key);
  if (!project) return { created: false }; // another process got there first
  return { created: true, projectId: project.id, generatedKey: bootstrapApiKey ? undefined : key };
}
