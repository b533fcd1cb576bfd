/**
 * `hookbridge export`: makes an export job (POST /v1/exports) and streams its file
 * (GET /v1/exports/{id}/download) to a file or to stdout, chunk by chunk as it arrives, with a
 * progress bar on stderr: rows and bytes so far against the rows the server counted.
 */
import fs from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import type { ExportJob } from '@hookbridge/sdk';
import { exportRowCounter, type ExportFormat } from '../core/export-format.js';
import { EXIT, addFilterOptions, apiAction, camel, choice, examples, filterQuery, withConnection, type Ctx, type Filter } from './api.js';
import { UsageError } from './config-file.js';
import { DELIVERY_FILTERS } from './deliveries.js';
import { notice, out, printJson, progressBar } from './output.js';

/** Which of the filter flags each kind takes (--endpoint names an inbound endpoint for inbound events). */
const FILTERS: Record<string, Filter[]> = {
  deliveries: DELIVERY_FILTERS,
  'inbound-events': [{ flags: '--endpoint <id>', param: 'inbound_endpoint_id', description: '' }],
};
/** How often the bar is redrawn (a line each time when stderr is not a terminal). */
const REDRAW_MS = 250;

export function registerExport(program: Command): void {
  const cmd = program
    .command('export')
    .description('Export deliveries or inbound events as CSV or NDJSON: to a file (-o) or stdout, streamed, with a progress bar.')
    .addOption(choice('--kind <kind>', 'what to export', ['deliveries', 'inbound-events']).makeOptionMandatory())
    .addOption(choice('--format <format>', 'file format', ['csv', 'ndjson']).default('csv'))
    .option('-o, --output <file>', 'write the file here (written as <file>.part, renamed when complete); default stdout');
  addFilterOptions(cmd, DELIVERY_FILTERS.map((f) => (f.param === 'endpoint_id' ? { ...f, description: 'deliveries: only to this endpoint; inbound-events: only of this inbound endpoint' } : f)));
  cmd.option('--progress', 'draw the progress bar on stderr even when it is not a terminal').option('--no-progress', 'no progress bar');
  withConnection(cmd)
    .addHelpText(
      'after',
      `
The filters are those of \`deliveries list\` (--kind deliveries) or of \`inbound events list\`
(--kind inbound-events: --endpoint only). The file holds the rows that matched when the export was made, newest
first: NDJSON has one object per line in the API's JSON; CSV has a header row and fixed columns,
with text that a spreadsheet would run as a formula (= + - @) prefixed with '. The bar shows on a
terminal (rows and MB against the count the server made); --json prints the export job instead
and needs -o.
${examples(
  'hookbridge export --kind deliveries --format csv --status failed -o failed.csv',
  'hookbridge export --kind deliveries --endpoint ep_01… --since 2026-01-01T00:00:00Z --until 2026-02-01T00:00:00Z -o january.csv',
  'hookbridge export --kind inbound-events --format ndjson --endpoint in_01… | jq .body',
  'hookbridge export --kind deliveries --format ndjson -o all.ndjson --json',
)}`,
    )
    .action(apiAction(async (ctx, _args, o) => runExport(ctx, o)));
}

async function runExport(ctx: Ctx, o: Record<string, any>): Promise<void> {
  const kind = o.kind as 'deliveries' | 'inbound-events';
  const format = o.format as ExportFormat;
  const foreign = DELIVERY_FILTERS.filter((f) => o[camel(f.flags)] !== undefined && !FILTERS[kind].some((k) => k.flags === f.flags));
  if (foreign.length > 0) throw new UsageError(`${foreign.map((f) => f.flags.split(' ')[0]).join(', ')}: not a filter of --kind ${kind} (it takes ${FILTERS[kind].map((f) => f.flags.split(' ')[0]).join(', ')})`);
  if (ctx.json && !o.output) throw new UsageError('--json prints the export job on stdout, so the file needs -o <file>');
  const filters = Object.fromEntries(Object.entries(filterQuery(FILTERS[kind], o)).filter(([, v]) => v !== undefined)) as Record<string, string>;

  let job: ExportJob = await ctx.client.exports.create({ kind, format, filters });
  // The server counts while it makes the job, so it is ready at once; a future one may count later.
  while (job.status === 'pending') {
    await new Promise((r) => setTimeout(r, 500));
    job = await ctx.client.exports.get(job.id);
  }
  if (job.status !== 'ready') {
    notice(`hookbridge: export ${job.id} failed: ${job.error ?? job.status}`);
    process.exitCode = EXIT.refused;
    return;
  }

  const res = await ctx.client.exports.download(job.id);
  const total = Number(res.headers.get('x-hookbridge-row-count') ?? job.row_count ?? 0);
  const showBar = (o.progress as boolean | undefined) ?? (Boolean(process.stderr.isTTY) && !ctx.json);
  const bar = showBar ? progressBar(total, 'exporting') : null;
  const counter = exportRowCounter(format);
  let bytes = 0;
  let drawn = 0;
  async function* counted(source: AsyncIterable<Uint8Array>) {
    for await (const chunk of source) {
      counter.push(chunk);
      bytes += chunk.length;
      if (bar && Date.now() - drawn >= REDRAW_MS) {
        bar.update(Math.min(counter.rows, total), megabytes(bytes));
        drawn = Date.now();
      }
      yield chunk;
    }
  }
  const partial = o.output ? `${o.output}.part` : null;
  const stopped = () => {
    if (partial) fs.rmSync(partial, { force: true });
    process.exit(130);
  };
  process.once('SIGINT', stopped);
  try {
    // pipeline follows the slower side: the download is read only as fast as the file is written.
    if (partial) {
      await pipeline(res.body!, counted, fs.createWriteStream(partial));
      fs.renameSync(partial, o.output);
    } else {
      await pipeline(res.body!, counted, process.stdout, { end: false });
    }
  } catch (e) {
    if (partial) fs.rmSync(partial, { force: true });
    throw e;
  } finally {
    process.removeListener('SIGINT', stopped);
  }
  bar?.finish(megabytes(bytes));

  if (counter.rows !== total) notice(`note: ${counter.rows} rows written; ${total} were counted when the export was made (rows changed or were removed since)`);
  if (ctx.json) return printJson(job);
  const what = `${counter.rows} ${kind === 'deliveries' ? 'deliveries' : 'inbound events'} (${megabytes(bytes)}, export ${job.id})`;
  // With no -o the file is on stdout: the summary must not mix into it.
  if (partial) out.write(`exported ${what} to ${o.output}\n`);
  else notice(`exported ${what}`);
}

function megabytes(n: number): string {
  return `${(n / 1e6).toFixed(n < 1e7 ? 2 : 1)} MB`;
}
