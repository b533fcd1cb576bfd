import { Option, type Command } from 'commander';
import { HookbridgeNetworkError } from '@hookbridge/sdk';
import { addFilterOptions, apiAction, examples, filterQuery, intOption, withConnection, type Ctx } from './api.js';
import { DELIVERY_FILTERS } from './deliveries.js';
import { cell, notice, out, status } from './output.js';
import type { Page } from './output.js';

// --until would stop anything new from showing up.
const TAIL_FILTERS = DELIVERY_FILTERS.filter((f) => f.param !== 'until');

interface Delivery {
  id: string;
  event_type: string;
  endpoint_id: string;
  status: string;
  attempt_count: number;
  replay_count: number;
  last_status_code: number | null;
  last_error: string | null;
  updated_at: string;
}

/**
 * `hookbridge tail`: follows deliveries live. The API has no change feed, so it polls the newest
 * page of GET /v1/deliveries (with the filters given) and prints a line for every delivery that is
 * new or whose status, attempt count or replay count changed since the last poll. Changes to
 * deliveries older than that page (250 at most) are not seen.
 */
export function registerTail(program: Command): void {
  const cmd = program.command('tail').description('Follow deliveries live: a line per new or changed delivery, until Ctrl-C.');
  addFilterOptions(cmd, TAIL_FILTERS);
  cmd
    .option('-n, --lines <n>', 'first print the newest n deliveries', intOption('--lines', 0, 250), 10)
    .option('--interval <ms>', 'poll every ms', intOption('--interval', 100, 60_000), 1000)
    .addOption(new Option('--window <n>', 'deliveries compared per poll (newest first)').argParser(intOption('--window', 1, 250)).default(100));
  withConnection(cmd)
    .addHelpText(
      'after',
      `
Each line: time, delivery id, event type, endpoint, status, attempt count, last HTTP status or error.
With --json: one JSON object (the delivery as the API returns it) per line.
${examples('hookbridge tail', 'hookbridge tail --endpoint ep_01… --status failed', 'hookbridge tail --json | jq -c "{id, status}"')}`,
    )
    .action(apiAction(async (ctx, _args, o) => follow(ctx, o)));
}

async function follow(ctx: Ctx, o: Record<string, any>): Promise<void> {
  const query = { ...filterQuery(TAIL_FILTERS, o), limit: o.window };
  const seen = new Map<string, string>();
  const fingerprint = (d: Delivery) => `${d.status}|${d.attempt_count}|${d.replay_count}`;

  // Ctrl-C ends the loop at once: the poll in flight is aborted, the wait cut short; exit code 0.
  const abort = new AbortController();
  let wake: () => void = () => undefined;
  const stop = () => {
    abort.abort();
    wake();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);

  let first = true;
  let lost = false;
  if (!ctx.json) notice(out.c.dim(`following deliveries on ${ctx.conn.url} (Ctrl-C to stop)`));
  while (!abort.signal.aborted) {
    let page: Page<Delivery>;
    try {
      page = await ctx.client.request<Page<Delivery>>('GET', '/v1/deliveries', { query, signal: abort.signal });
    } catch (e) {
      if (abort.signal.aborted) break;
      // A server restarting should not end a long-running tail; a refused key, a bad filter or a
      // server that was never there (the first poll) should.
      if (!(e instanceof HookbridgeNetworkError) || first) throw e;
      if (!lost) notice(`hookbridge: lost the server (${e.message}); still trying…`);
      lost = true;
      await pause(o.interval * 5);
      continue;
    }
    if (lost) notice('hookbridge: connected again');
    lost = false;
    // Oldest first, so the lines read in the order things happened.
    const changed = page.data.filter((d) => seen.get(d.id) !== fingerprint(d)).reverse();
    const shown = first ? changed.slice(Math.max(0, changed.length - o.lines)) : changed;
    for (const d of shown) out.write(ctx.json ? JSON.stringify(d) + '\n' : line(d) + '\n');
    // Forget what left the window, so the map stays as small as the page.
    seen.clear();
    for (const d of page.data) seen.set(d.id, fingerprint(d));
    first = false;
    await pause(o.interval);
  }
  process.removeListener('SIGINT', stop);
  process.removeListener('SIGTERM', stop);

  function pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

function line(d: Delivery): string {
  const c = out.c;
  const result = d.last_status_code !== null ? String(d.last_status_code) : d.last_error ? d.last_error : '';
  const attempts = `attempt ${d.attempt_count}${d.replay_count ? ` (replay ${d.replay_count})` : ''}`;
  return [c.dim(cell(d.updated_at)), d.id, c.bold(d.event_type), d.endpoint_id, status(d.status.padEnd(13)), attempts, result].join('  ').trimEnd();
}
