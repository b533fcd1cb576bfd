/**
 * The state the fuzz properties share, kept in this one module: what the setup starts (the server,
 * the receiver, the HTTP agent, the second tenant's key), the pool of ids that exist, the ingest
 * targets, and the tally of answers and heap samples that feed the figures.
 */
import type { Agent } from 'undici';
import type { Client, Receiver, TestServer } from '../helpers.js';
import { isObject } from './oracle.js';

/** Filled in by beforeAll (and seed()); read by the generators and senders once it has run. */
export const ctx = {} as {
  server: TestServer;
  receiver: Receiver;
  agent: Agent;
  /** A key of project C: a second, non-admin tenant the fuzzer also speaks as. */
  otherKey: string;
  /** Project B's client: the owner of the ingest targets. */
  ingestApi: Client;
};

/** What was sent and answered, for the assertions and the figures. */
export const stats = {
  api: 0,
  ingest: 0,
  raw: 0,
  fiveXx: 0,
  byStatus: {} as Record<string, number>,
  byRoute: {} as Record<string, number>,
};

/** `fiveXx` counts the 5xx answers that are defects (all but the ingest route's endpoint_paused). */
export function tally(route: string, status: number | string, problem: string | null = null) {
  stats.byStatus[status] = (stats.byStatus[status] ?? 0) + 1;
  stats.byRoute[route] = (stats.byRoute[route] ?? 0) + 1;
  if (typeof status === 'number' && status >= 500 && problem) stats.fiveXx++;
}

/**
 * Ids that exist (or existed) of every kind, mixed into the generated ids: the seeds, then every
 * id the server hands out during the run (so that actions meet deliveries the fuzzer published).
 */
export const pool: string[] = [];
const pooled = new Set<string>();
/** Never fuzzed: project B's key (the admin key may revoke any project's keys). */
export const untouchable = new Set<string>();
export const remember = (id: string) => {
  if (pooled.has(id) || untouchable.has(id) || pooled.size >= 3000) return;
  pooled.add(id);
  pool.push(id);
};
export const eventTypes = ['fuzz.seed'];
/** Endpoints the janitor keeps. */
export const seedEndpoints = new Set<string>();

/** Collects the ids in an answer (`id` and `…_id` fields). */
export function harvest(v: unknown, depth = 0): void {
  if (depth > 4) return;
  if (Array.isArray(v)) for (const x of v.slice(0, 50)) harvest(x, depth + 1);
  else if (isObject(v)) {
    for (const [k, x] of Object.entries(v)) {
      if (typeof x === 'string' && (k === 'id' || k.endsWith('_id')) && /^[a-z]+_[0-9a-z]{8,40}$/.test(x)) remember(x);
      else if (x !== null && typeof x === 'object') harvest(x, depth + 1);
    }
  }
}

export interface IngestTarget {
  id: string;
  kind: string;
  /** Accepting requests from 127.0.0.1 with a valid signature. */
  open: boolean;
  paused?: boolean;
  acceptStatus: number;
  sign(body: Buffer, when: number, right: boolean): { headers: string[]; query: string };
}

/** The inbound endpoints of project B that POST /in/:id is fuzzed against (seed() creates them). */
export const ingestTargets: IngestTarget[] = [];

/** The heap after GC, sampled along the run (see sampleMemory). */
export const heapSamples: Array<{ after: number; heap_mib: number }> = [];
