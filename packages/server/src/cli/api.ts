/**
 * What every command that talks to the API shares: the connection flags, the client (from
 * @hookbridge/sdk, so the CLI drives the API exactly as users' code does), the few command shapes
 * that repeat (list, act on one id) and the one place that turns errors into messages and exit
 * codes:
 *
 *   0  success
 *   1  the server refused the request (4xx other than 401/403, or 5xx), or `verify` found the
 *      signature invalid
 *   2  bad usage: unknown command or flag, bad flag value, unreadable file, invalid JSON, broken
 *      config file
 *   3  no answer from the server (connection refused, DNS, timeout), or the API key was refused
 *      (401) or lacks the right (403)
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { HookbridgeApiError, HookbridgeClient, HookbridgeNetworkError } from '@hookbridge/sdk';
import { VERSION } from '../version.js';
import { UsageError, resolveConnection, type Connection } from './config-file.js';
import { notice, out, printJson, printList, printObject, table, type Column, type Page } from './output.js';

export const EXIT = { ok: 0, refused: 1, usage: 2, noAccess: 3 } as const;

export const EXIT_CODES_HELP = `
Exit codes:
  0  success
  1  the server refused the request (e.g. 404, 409, 422), or verify: signature invalid
  2  bad usage: unknown flag, bad value, unreadable file, invalid JSON, broken config file
  3  cannot reach the server, or the API key was refused (401) or lacks the right (403)`;

export interface ConnectionFlags {
  server?: string;
  apiKey?: string;
  json?: boolean;
}

export interface Ctx {
  client: HookbridgeClient;
  conn: Connection;
  json: boolean;
}

/** The flags of every command that talks to the API. */
export function withConnection(cmd: Command): Command {
  cmd
    .option('--server <url>', 'Hookbridge server URL (env HOOKBRIDGE_URL, else the login file, else http://localhost:8080)')
    .option('--api-key <key>', 'API key (env HOOKBRIDGE_API_KEY, else the login file)')
    .option('--json', "print the API's JSON only (for scripts)");
  // 'afterAll' prints after the command's own help text and examples.
  cmd.addHelpText('afterAll', '\nExit codes: 0 ok, 1 refused by the server, 2 bad usage or config, 3 server unreachable or key refused (401/403).');
  return cmd;
}

export function makeClient(flags: ConnectionFlags): Ctx {
  const conn = resolveConnection(flags);
  if (!conn.apiKey) {
    throw new UsageError('no API key: run `hookbridge login`, set HOOKBRIDGE_API_KEY, or pass --api-key');
  }
  // Retries: the SDK retries only what is safe to send twice (GETs, keyed POSTs) on 429/5xx.
  const client = new HookbridgeClient({ baseUrl: conn.url, apiKey: conn.apiKey, maxRetries: 2, timeoutMs: 30_000, userAgent: `hookbridge-cli/${VERSION}` });
  return { client, conn, json: Boolean(flags.json) };
}

type Handler = (ctx: Ctx, args: string[], opts: Record<string, any>) => Promise<void>;

/** Wraps a command's action: builds the client from its flags and turns errors into exit codes. */
export function apiAction(handler: Handler): (...all: unknown[]) => Promise<void> {
  return localAction(async (args, opts) => handler(makeClient(opts), args, opts));
}

/** Same error handling for commands that need no client (verify). */
export function localAction(handler: (args: string[], opts: Record<string, any>) => Promise<void>): (...all: unknown[]) => Promise<void> {
  return async (...all) => {
    const cmd = all[all.length - 1] as Command;
    try {
      await handler(cmd.processedArgs as string[], cmd.optsWithGlobals());
    } catch (e) {
      process.exitCode = reportError(e, cmd.optsWithGlobals(), cmd.name());
    }
  };
}

/** Prints what went wrong on stderr (one clear line, plus field details) and returns the exit code. */
export function reportError(e: unknown, flags: ConnectionFlags = {}, command = ''): number {
  const say = (s: string) => notice(`hookbridge: ${s}`);
  if (e instanceof UsageError) {
    say(e.message);
    return EXIT.usage;
  }
  if (e instanceof HookbridgeNetworkError) {
    // login names its server --url (everywhere else --url is an endpoint's URL).
    const url = safeUrl(command === 'login' ? { ...flags, server: (flags as { url?: string }).url } : flags);
    say(`cannot reach the server${url ? ` at ${url}` : ''}: ${e.message}${causeOf(e)}`);
    notice('  Is it running? Set the URL with --server, HOOKBRIDGE_URL or `hookbridge login`.');
    return EXIT.noAccess;
  }
  if (e instanceof HookbridgeApiError) {
    if (e.status === 401) {
      say(`the server refused the API key (401 ${e.code}): ${e.message}`);
      notice(command === 'login' ? '  Nothing was saved.' : `  The key came from ${safeKeySource(flags)}. Check it, or run \`hookbridge login\` again.`);
      return EXIT.noAccess;
    }
    if (e.status === 403) {
      say(`this API key may not do that (403 ${e.code}): ${e.message}`);
      notice('  Projects and their keys are managed with the admin key (the one created on first start).');
      return EXIT.noAccess;
    }
    say(`${e.message} (${e.status} ${e.code})`);
    if (Array.isArray(e.details)) {
      for (const d of e.details as Array<{ field?: string; message?: string }>) notice(`  - ${d.field ?? '?'}: ${d.message ?? JSON.stringify(d)}`);
    }
    return EXIT.refused;
  }
  say(`unexpected error: ${(e as Error)?.stack ?? String(e)}`);
  return EXIT.refused;
}

function causeOf(e: Error): string {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  const text = cause?.code ?? cause?.message;
  return text && !e.message.includes(text) ? ` (${text})` : '';
}

function safeUrl(flags: ConnectionFlags): string | undefined {
  try {
    return resolveConnection(flags).url;
  } catch {
    return undefined;
  }
}

function safeKeySource(flags: ConnectionFlags): string {
  try {
    return resolveConnection(flags).apiKeySource;
  } catch {
    return 'the command line or environment';
  }
}

// --- option parsers (commander calls these; InvalidArgumentError is its usage error: exit 2) ----

export function intOption(name: string, min: number, max: number) {
  return (raw: string): number => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}.`);
    return n;
  };
}

/** For repeatable flags: `--event-type a --event-type b` and `--event-type a,b` both give [a, b]. */
export function collect(raw: string, prev: string[] | undefined): string[] {
  return [...(prev ?? []), ...raw.split(',').map((s) => s.trim()).filter(Boolean)];
}

/** Repeatable `name: value` header flags (curl's -H style). */
export function collectHeader(raw: string, prev: Record<string, string> | undefined): Record<string, string> {
  const i = raw.indexOf(':');
  if (i <= 0) throw new InvalidArgumentError(`a header must look like 'name: value'.`);
  return { ...(prev ?? {}), [raw.slice(0, i).trim()]: raw.slice(i + 1).trim() };
}

export function jsonOption(name: string) {
  return (raw: string): unknown => {
    try {
      return JSON.parse(raw);
    } catch (e) {
      throw new InvalidArgumentError(`${name} is not valid JSON (${(e as Error).message}).`);
    }
  };
}

export function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}`;
}

export function choice(flags: string, description: string, choices: string[]): Option {
  return new Option(flags, description).choices(choices);
}

// --- command shapes that repeat ----------------------------------------------------------------

/** A flag that becomes a query parameter, e.g. { flags: '--status <s>', param: 'status', description: '…' }. */
export interface Filter {
  flags: string;
  param: string;
  description: string;
  choices?: string[];
}

export function addFilterOptions(cmd: Command, filters: Filter[]): Command {
  for (const f of filters) cmd.addOption(f.choices ? choice(f.flags, f.description, f.choices) : new Option(f.flags, f.description));
  return cmd;
}

/** The query parameters of the filter flags that were given. */
export function filterQuery(filters: Filter[], opts: Record<string, any>): Record<string, string | undefined> {
  return Object.fromEntries(filters.map((f) => [f.param, opts[camel(f.flags)] as string | undefined]));
}

export interface ListSpec {
  name?: string;
  description: string;
  /** The route, or how to make it from the command's positional arguments and flags. */
  path: string | ((args: string[], opts: Record<string, any>) => string);
  args?: string[];
  /** Flags that choose the route rather than filter it (see `path`). */
  options?: Array<{ flags: string; description: string }>;
  filters?: Filter[];
  columns: Column[];
  what: string;
  examples: string[];
}

/** A `list` subcommand: filters, --limit/--cursor/--all, a table or the API's JSON. */
export function addListCommand(parent: Command, spec: ListSpec): Command {
  const cmd = parent.command(spec.name ?? 'list').description(spec.description);
  for (const a of spec.args ?? []) cmd.argument(a);
  for (const o of spec.options ?? []) cmd.option(o.flags, o.description);
  addFilterOptions(cmd, spec.filters ?? []);
  cmd
    .option('--limit <n>', 'how many per page (1–250)', intOption('--limit', 1, 250), 50)
    .option('--cursor <cursor>', 'start at this page (next_cursor of the previous one)')
    .option('--all', 'follow next_cursor to the end');
  withConnection(cmd).addHelpText('after', examples(...spec.examples));
  cmd.action(
    apiAction(async (ctx, args, opts) => {
      const path = typeof spec.path === 'string' ? spec.path : spec.path(args, opts);
      const query = { ...filterQuery(spec.filters ?? [], opts), limit: opts.limit, cursor: opts.cursor };
      let page: Page;
      if (opts.all) {
        const data: unknown[] = [];
        for await (const item of ctx.client.paginate(path, { ...query, limit: 250 })) data.push(item);
        page = { data, has_more: false, next_cursor: null };
      } else {
        page = await ctx.client.request<Page>('GET', path, { query });
      }
      printList(page, spec.columns, ctx.json, spec.what);
    }),
  );
  return cmd;
}

export interface IdSpec {
  name: string;
  description: string;
  method: 'GET' | 'POST' | 'DELETE';
  path: (id: string) => string;
  arg?: string;
  /** A one-line summary for people instead of the whole object (e.g. "dlv_… is queued"). */
  summary?: (obj: Record<string, any>, id: string) => string;
  /** Prints the object for people instead of a `key  value` line per field. */
  print?: (obj: Record<string, any>) => void;
  /**
   * A list that belongs to the object (a delivery's attempts, a message's deliveries): every page
   * of it, printed as a table below the object, and added to the JSON under `key`.
   */
  related?: { key: string; title: string; path: (id: string) => string; query?: (id: string) => Record<string, string>; columns: Column[] };
  examples: string[];
}

/** A subcommand acting on one object by id: show, pause, resume, retry, cancel, replay, delete. */
export function addIdCommand(parent: Command, spec: IdSpec): Command {
  const cmd = parent
    .command(spec.name)
    .description(spec.description)
    .argument(spec.arg ?? '<id>');
  withConnection(cmd).addHelpText('after', examples(...spec.examples));
  cmd.action(
    apiAction(async (ctx, [id], _opts) => {
      const obj = await ctx.client.request<Record<string, any> | undefined>(spec.method, spec.path(id));
      if (obj === undefined || obj === null || typeof obj !== 'object') {
        // 204 (delete): nothing to print for scripts; one line for people.
        if (!ctx.json) out.write((spec.summary ? spec.summary({}, id) : `${spec.name}: ${id} done`) + '\n');
        return;
      }
      const rel = spec.related;
      const related = rel ? await allPages(ctx.client, rel.path(id), rel.query?.(id)) : [];
      if (ctx.json) return printJson(rel ? { ...obj, [rel.key]: related } : obj);
      if (spec.summary) return out.write(spec.summary(obj, id) + '\n');
      if (spec.print) spec.print(obj);
      else printObject(obj, false);
      if (rel) out.write(`\n${out.c.bold(rel.title)}\n${related.length ? table(related, rel.columns) : 'none\n'}`);
    }),
  );
  return cmd;
}

/** Every item of a list route, following next_cursor (250 a page, the most the API gives). */
export async function allPages<T = any>(client: HookbridgeClient, path: string, query: Record<string, string | number | undefined> = {}): Promise<T[]> {
  const items: T[] = [];
  for await (const item of client.paginate<T>(path, { ...query, limit: 250 })) items.push(item);
  return items;
}

/** commander's property name for a flag: '--event-type <t>' → 'eventType'. */
export function camel(flags: string): string {
  const long = flags.split(/[ ,]+/).find((f) => f.startsWith('--')) ?? flags;
  return long.replace(/^--/, '').replace(/^no-/, '').replace(/-([a-z])/g, (_m, ch: string) => ch.toUpperCase());
}

export function encode(id: string): string {
  return encodeURIComponent(id);
}

/** '5,60,300' → [5, 60, 300] (seconds); 'default' → null (clears the setting on update). */
export function numberList(name: string) {
  return (raw: string): number[] | null => {
    if (raw === 'default') return null;
    const list = raw.split(',').map((s) => Number(s.trim()));
    if (list.some((n) => !Number.isFinite(n) || n < 0)) throw new InvalidArgumentError(`${name} takes seconds separated by commas (e.g. 5,60,300), or "default".`);
    return list;
  };
}

/** A JSON body with the fields that were given (commander leaves unset flags undefined). */
export function defined(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
}

/** Sends a body and prints the answer: the API's JSON with --json, else its fields. */
export async function sendAndPrint(ctx: Ctx, method: 'POST' | 'PATCH', path: string, body: unknown, title?: string): Promise<Record<string, unknown>> {
  const obj = await ctx.client.request<Record<string, unknown>>(method, path, { body });
  printObject(obj, ctx.json, title);
  return obj;
}
