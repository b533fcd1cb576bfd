/**
 * The `hookbridge` client commands end to end: the built CLI (bin/hookbridge.js) runs as a child
 * process, as a user or a script runs it, against a real server on 127.0.0.1 (in-process here)
 * and loopback receivers. Checks what scripts rely on: exit codes, --json on stdout and nothing
 * else, no colour codes when piped, the login file and the precedence of flags, env and file.
 *
 * Needs `npm run build` first (the launcher loads dist/). All traffic stays on 127.0.0.1.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { buildProgram } from '../src/cli/index.js';
import { csvObjects } from './csv.js';
import { ADMIN_KEY, LAUNCHER, SERVER_PACKAGE, freePort, sleep, tempDir, useServer, waitForDelivery, waitUntil } from './helpers.js';

const DOCS = path.resolve(SERVER_PACKAGE, '..', '..', 'docs', 'cli.md');
const ANSI = /\u001b\[/;

const ctx = useServer();
const dirs: string[] = [];
const children: ChildProcess[] = [];

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** A home of its own for each CLI run: no login file of the machine's user can leak in. */
function home(): string {
  const d = tempDir('hookbridge-cli-home-');
  dirs.push(d);
  return d;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Environment of a CLI run: URL + admin key by env unless overridden; undefined removes a variable. */
function cliEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const h = home();
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: h, XDG_CONFIG_HOME: path.join(h, '.config'), HOOKBRIDGE_URL: ctx.server.url, HOOKBRIDGE_API_KEY: ADMIN_KEY };
  delete env.HOOKBRIDGE_CONFIG_FILE;
  delete env.NO_COLOR;
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** Runs the CLI to completion (async: the server answering it lives in this process). */
function cli(args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<Run> {
  const child = spawn(process.execPath, [LAUNCHER, ...args], { env: opts.env ?? cliEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  child.stdin!.end(opts.input ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

/** Runs it and expects exit code 0 and parseable JSON on stdout. */
async function cliJson(args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<any> {
  const r = await cli([...args, '--json'], opts);
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  return JSON.parse(r.stdout);
}

describe.sequential('hookbridge CLI', () => {
  it('creates an endpoint, sends from stdin, shows the attempt table, replays', async () => {
    const r = await ctx.receiver();
    const ep = await cliJson(['endpoints', 'create', '--url', r.url, '--event-type', 'order.paid', '--event-type', 'order.created']);
    expect(ep).toMatchObject({ id: expect.stringMatching(/^ep_/), url: r.url, event_types: ['order.paid', 'order.created'], signing_secret: expect.stringMatching(/^whsec_/) });

    const sent = await cli(['send', '--endpoint', ep.id, '--event-type', 'order.paid'], { input: '{"order_id":"o_1001"}' });
    expect(sent.code, sent.stderr).toBe(0);
    const deliveryId = /dlv_[0-9a-z]+/.exec(sent.stdout)?.[0];
    expect(deliveryId, sent.stdout).toBeDefined();
    await r.waitForRequests(1);
    expect(r.requests[0].body).toBe('{"order_id":"o_1001"}');
    await waitForDelivery(ctx.api, deliveryId!, ['succeeded']);

    const show = await cli(['deliveries', 'show', deliveryId!]);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toMatch(/status\s+succeeded/);
    expect(show.stdout).toContain('Attempts');
    expect(show.stdout).toMatch(/#\s+STARTED_AT\s+MS\s+CODE\s+OUTCOME/);
    expect(show.stdout).toMatch(/\n1\s+\S+Z\s+\d+\s+200\s+succeeded/);

    const replay = await cli(['deliveries', 'replay', deliveryId!]);
    expect(replay.code, replay.stderr).toBe(0);
    expect(replay.stdout).toMatch(new RegExp(`${deliveryId} is (queued|delivering|succeeded) \\(replay 1\\)`));
    await r.waitForRequests(2);
    expect(r.requests[1].headers['webhook-id']).toBe(r.requests[0].headers['webhook-id']);
    const shown = await cliJson(['deliveries', 'show', deliveryId!]);
    await waitForDelivery(ctx.api, deliveryId!, ['succeeded']);
    expect(shown.replay_count).toBe(1);

    // Deleting the message removes its payload: the next replay is refused with 410 (exit 1).
    const deleted = await cli(['messages', 'delete', shown.message_id]);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(deleted.stdout).toContain(`payload of ${shown.message_id} removed`);
    expect((await cliJson(['messages', 'show', shown.message_id])).payload).toBeNull();
    const refused = await cli(['deliveries', 'replay', deliveryId!]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('payload_expired');
  });

  it('--json prints only the API JSON; lists filter by status and endpoint', async () => {
    const r = await ctx.receiver();
    const ep = await cliJson(['endpoints', 'create', '--url', r.url, '--consumer', 'acme']);
    const msg = await cliJson(['send', '--consumer', 'acme', '--event-type', 'invoice.paid', '--data', '{"invoice":"in_77"}']);
    expect(msg).toMatchObject({ id: expect.stringMatching(/^msg_/), deliveries: [{ endpoint_id: ep.id }] });
    await waitForDelivery(ctx.api, msg.deliveries[0].id, ['succeeded']);

    const list = await cliJson(['deliveries', 'list', '--status', 'succeeded', '--endpoint', ep.id]);
    expect(list).toMatchObject({ has_more: false, next_cursor: null });
    expect(list.data.map((d: any) => d.id)).toEqual([msg.deliveries[0].id]);
    expect((await cliJson(['deliveries', 'list', '--status', 'failed', '--endpoint', ep.id])).data).toEqual([]);
    expect((await cliJson(['endpoints', 'list', '--consumer', 'acme'])).data.map((e: any) => e.id)).toEqual([ep.id]);
    expect((await cliJson(['messages', 'show', msg.id])).payload).toEqual({ invoice: 'in_77' });

    // A page at a time: the hint for the next page goes to stderr, never into the JSON.
    const paged = await cli(['messages', 'list', '--limit', '1']);
    expect(paged.code).toBe(0);
    expect(paged.stderr).toMatch(/more: add --cursor \S+/);
  });

  it('exit codes: wrong key 3, unreachable 3, server refusal 1, bad usage 2 — with a clear message on stderr', async () => {
    const wrongKey = await cli(['endpoints', 'list'], { env: cliEnv({ HOOKBRIDGE_API_KEY: 'hb_test_not_a_real_key_0000000000' }) });
    expect(wrongKey.code).toBe(3);
    expect(wrongKey.stdout).toBe('');
    expect(wrongKey.stderr).toContain('the server refused the API key (401 unauthorized)');
    expect(wrongKey.stderr).toContain('HOOKBRIDGE_API_KEY');

    const noKey = await cli(['endpoints', 'list'], { env: cliEnv({ HOOKBRIDGE_API_KEY: undefined }) });
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain('hookbridge login');

    const closed = `http://127.0.0.1:${await freePort()}`; // nothing listens there
    const unreachable = await cli(['deliveries', 'list', '--server', closed]);
    expect(unreachable.code).toBe(3);
    expect(unreachable.stderr).toContain(`cannot reach the server at ${closed}`);

    const notFound = await cli(['deliveries', 'show', 'dlv_doesnotexist']);
    expect(notFound.code).toBe(1);
    expect(notFound.stderr).toContain('(404 not_found)');

    const refused = await cli(['endpoints', 'create', '--url', 'ftp://127.0.0.1/x']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/\((400 invalid_request|422 url_not_allowed)\)/);

    for (const args of [['endpoints', 'list', '--bogus'], ['send', '--event-type', 'x', '--data', '{nope'], ['deliveries', 'list', '--limit', '0'], ['endpoints']]) {
      const usage = await cli(args);
      expect(usage.code, args.join(' ')).toBe(2);
      expect(usage.stdout).toBe('');
    }
    const help = await cli(['deliveries', 'list', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Examples:');
  });

  it('login checks the key, writes a 0600 file that later commands use; env beats the file, flags beat env', async () => {
    const h = home();
    const env = (extra: Record<string, string | undefined> = {}) => cliEnv({ HOME: h, XDG_CONFIG_HOME: path.join(h, 'xdg'), HOOKBRIDGE_URL: undefined, HOOKBRIDGE_API_KEY: undefined, ...extra });
    const file = path.join(h, 'xdg', 'hookbridge', 'config.json');

    const bad = await cli(['login', '--url', ctx.server.url, '--api-key', 'hb_test_wrong_key_00000000000000000'], { env: env() });
    expect(bad.code).toBe(3);
    expect(bad.stderr).toContain('Nothing was saved');
    expect(fs.existsSync(file)).toBe(false);

    // The key on stdin (kept out of the shell history).
    const ok = await cli(['login', '--url', ctx.server.url], { env: env(), input: `${ADMIN_KEY}\n` });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain(file);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({ url: ctx.server.url, api_key: ADMIN_KEY });

    expect((await cli(['endpoints', 'list', '--json'], { env: env() })).code).toBe(0);
    // Env wins over the file, flags over env.
    const envWins = await cli(['endpoints', 'list'], { env: env({ HOOKBRIDGE_API_KEY: 'hb_test_wrong_key_00000000000000000' }) });
    expect(envWins.code).toBe(3);
    expect(envWins.stderr).toContain('HOOKBRIDGE_API_KEY');
    expect((await cli(['endpoints', 'list', '--api-key', ADMIN_KEY], { env: env({ HOOKBRIDGE_API_KEY: 'hb_test_wrong_key_00000000000000000' }) })).code).toBe(0);
    const closed = `http://127.0.0.1:${await freePort()}`;
    const urlEnv = await cli(['endpoints', 'list'], { env: env({ HOOKBRIDGE_URL: closed }) });
    expect(urlEnv.code).toBe(3);
    expect(urlEnv.stderr).toContain(closed);

    // HOOKBRIDGE_CONFIG_FILE moves the file.
    const elsewhere = path.join(h, 'other', 'hb.json');
    const moved = await cli(['login', '--url', ctx.server.url, '--api-key', ADMIN_KEY], { env: env({ HOOKBRIDGE_CONFIG_FILE: elsewhere }) });
    expect(moved.code, moved.stderr).toBe(0);
    expect(fs.statSync(elsewhere).mode & 0o777).toBe(0o600);
    expect((await cli(['keys', 'list', '--json'], { env: env({ HOME: home(), XDG_CONFIG_HOME: undefined, HOOKBRIDGE_CONFIG_FILE: elsewhere }) })).code).toBe(0);

    fs.writeFileSync(file, '{not json');
    const broken = await cli(['endpoints', 'list'], { env: env() });
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain(file);
    // login repairs it: a warning, then a good file.
    const repaired = await cli(['login', '--url', ctx.server.url, '--api-key', ADMIN_KEY], { env: env() });
    expect(repaired.code, repaired.stderr).toBe(0);
    expect(repaired.stderr).toContain('it will be replaced');
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({ url: ctx.server.url, api_key: ADMIN_KEY });
  });

  it('verify: ok for a real delivery (body from stdin too), invalid for a tampered body or a wrong secret', async () => {
    const r = await ctx.receiver();
    const ep = await ctx.endpoint(r.url);
    await ctx.send(ep.id, { amount: 4200 });
    const [req] = await r.waitForRequests(1);
    const headers = ['webhook-id', 'webhook-timestamp', 'webhook-signature'].flatMap((h) => ['-H', `${h}: ${req.headers[h]}`]);

    const ok = await cli(['verify', '--secret', ep.signing_secret, ...headers, '--body', req.body]);
    expect(ok).toMatchObject({ code: 0, stdout: 'ok\n' });
    expect((await cli(['verify', '--secret', ep.signing_secret, ...headers], { input: req.body })).stdout).toBe('ok\n');

    const tampered = await cli(['verify', '--secret', ep.signing_secret, ...headers, '--body', req.body.replace('4200', '1')]);
    expect(tampered.code).toBe(1);
    expect(tampered.stdout).toContain('invalid_signature');
    const wrongSecret = await cli(['verify', '--secret', 'whsec_' + Buffer.alloc(24, 7).toString('base64'), ...headers, '--body', req.body, '--json']);
    expect(wrongSecret.code).toBe(1);
    expect(JSON.parse(wrongSecret.stdout)).toMatchObject({ ok: false, reason: 'invalid_signature' });
    const noHeaders = await cli(['verify', '--secret', ep.signing_secret, '--body', req.body]);
    expect(noHeaders.code).toBe(1);
    expect(noHeaders.stdout).toContain('missing_headers');
  });

  it('prints no ANSI colour codes when piped or with NO_COLOR', async () => {
    const runs = await Promise.all([
      cli(['deliveries', 'list']),
      cli(['endpoints', 'list'], { env: cliEnv({ NO_COLOR: '1', FORCE_COLOR: '1' }) }),
      cli(['endpoints', 'list', '--api-key', 'hb_test_wrong_key_00000000000000000']),
      cli(['--help']),
    ]);
    for (const r of runs) {
      expect(r.stdout + r.stderr).not.toMatch(ANSI);
      expect(r.stdout.length + r.stderr.length).toBeGreaterThan(0);
    }
  });

  it('bulk replay shows progress on stderr and prints the summed counts', async () => {
    const r = await ctx.receiver();
    const ep = await ctx.endpoint(r.url);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await ctx.send(ep.id, { i })).deliveries[0].id);
    for (const id of ids) await waitForDelivery(ctx.api, id, ['succeeded']);

    const bulk = await cli(['deliveries', 'bulk-replay', '--status', 'succeeded', '--endpoint', ep.id, '--batch-size', '2', '--json']);
    expect(bulk.code, bulk.stderr).toBe(0);
    expect(JSON.parse(bulk.stdout)).toEqual({ replayed: 5, skipped: 0 });
    expect(bulk.stderr).toContain('replaying');
    for (const step of ['2/5', '4/5', '5/5']) expect(bulk.stderr).toContain(step);
    await r.waitForRequests(10);

    const byIds = await cli(['deliveries', 'bulk-replay', '--ids', `${ids[0]},dlv_unknown`]);
    expect(byIds.code, byIds.stderr).toBe(0);
    expect(byIds.stdout).toContain('replayed 1, skipped 1');
  });

  it('export streams a CSV to a file with a progress bar (--progress), NDJSON to stdout, and refuses filters of the other kind', async () => {
    const r = await ctx.receiver();
    const ep = await ctx.endpoint(r.url);
    for (let i = 0; i < 6; i++) await ctx.send(ep.id, { i }, i % 2 ? 'order.paid' : 'order.created');
    await waitUntil(async () => (await ctx.api.get(`/v1/deliveries?endpoint_id=${ep.id}&status=succeeded`)).body.data.length === 6, 10_000, 'six deliveries');
    const listed = (await ctx.api.get(`/v1/deliveries?endpoint_id=${ep.id}`)).body.data;
    const dir = home();
    const file = path.join(dir, 'out.csv');

    const toFile = await cli(['export', '--kind', 'deliveries', '--format', 'csv', '--endpoint', ep.id, '-o', file, '--progress']);
    expect(toFile.code, toFile.stderr).toBe(0);
    const { rows } = csvObjects(fs.readFileSync(file, 'utf8'));
    expect(rows.map((x) => x.id)).toEqual(listed.map((d: any) => d.id));
    expect(fs.existsSync(`${file}.part`)).toBe(false);
    expect(toFile.stderr).toMatch(/exporting .*6\/6/);
    expect(toFile.stdout).toMatch(/^exported 6 deliveries \(.* MB, export exp_\w+\) to .*out\.csv\n$/);

    const paid = await cli(['export', '--kind', 'deliveries', '--format', 'ndjson', '--endpoint', ep.id, '--event-type', 'order.paid']);
    expect(paid.code, paid.stderr).toBe(0);
    expect(paid.stdout.trim().split('\n').map((l) => JSON.parse(l))).toEqual(listed.filter((d: any) => d.event_type === 'order.paid'));
    // Not a terminal and no --progress: no bar, just the summary on stderr (stdout is the file).
    expect(paid.stderr).not.toContain('exporting');
    expect(paid.stderr).toMatch(/exported 3 deliveries/);

    const json = await cli(['export', '--kind', 'deliveries', '--endpoint', ep.id, '-o', path.join(dir, 'b.csv'), '--json']);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ id: expect.stringMatching(/^exp_/), kind: 'deliveries', format: 'csv', row_count: 6, filters: { endpoint_id: ep.id } });

    const wrong = await cli(['export', '--kind', 'inbound-events', '--status', 'failed']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('--status: not a filter of --kind inbound-events');
    expect((await cli(['export', '--kind', 'deliveries', '--json'])).code).toBe(2);
    expect((await cli(['export', '--format', 'csv'])).code).toBe(2);
  });

  it('tail prints a line per new or changed delivery and stops on Ctrl-C', async () => {
    const r = await ctx.receiver();
    const ep = await ctx.endpoint(r.url);
    const child = spawn(process.execPath, [LAUNCHER, 'tail', '--endpoint', ep.id, '--interval', '200'], { env: cliEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    await waitUntil(() => stderr.includes('following deliveries'), 10_000, 'tail to start');
    await sleep(300); // its first poll has seen the (empty) list
    const d = (await ctx.send(ep.id, { n: 1 })).deliveries[0].id;
    await waitUntil(() => new RegExp(`${d}.*succeeded.*200`).test(stdout), 10_000, `a succeeded line for ${d} (got: ${stdout})`);
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(stdout).not.toMatch(ANSI);
  });

  it('other commands work against the server: pause/resume, rotate-secret, event types, keys, inbound', async () => {
    const r = await ctx.receiver();
    const ep = await ctx.endpoint(r.url);
    expect((await cli(['endpoints', 'pause', ep.id])).stdout).toBe(`${ep.id} is paused\n`);
    expect((await cli(['endpoints', 'resume', ep.id])).stdout).toBe(`${ep.id} is active\n`);
    const rotated = await cliJson(['endpoints', 'rotate-secret', ep.id, '--grace-seconds', '0']);
    expect(rotated.signing_secret).toMatch(/^whsec_/);
    const updated = await cliJson(['endpoints', 'update', ep.id, '--retry-schedule', '1,2', '--header', 'X-Team: billing']);
    expect(updated).toMatchObject({ retry_schedule: [1, 2], headers: { 'X-Team': '[redacted]' } });
    expect((await cliJson(['endpoints', 'update', ep.id, '--clear', 'retry_schedule'])).retry_schedule).toBeNull();

    expect(await cliJson(['event-types', 'create', 'cli.tested', '--description', 'from the CLI test'])).toMatchObject({ name: 'cli.tested' });
    const dup = await cli(['event-types', 'create', 'cli.tested']);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toContain('409 conflict');

    const key = await cliJson(['keys', 'create', '--label', 'cli-test']);
    expect(key.key).toMatch(/^hb_live_/);
    expect((await cli(['projects', 'list'], { env: cliEnv({ HOOKBRIDGE_API_KEY: key.key }) })).code).toBe(3); // 403: not the admin key
    expect((await cli(['keys', 'revoke', key.id])).stdout).toBe(`revoked ${key.id}\n`);

    const inbound = await cliJson(['inbound', 'endpoints', 'create', '--name', 'gh', '--mode', 'pull', '--preset', 'github', '--secret', 's3cret']);
    expect(inbound).toMatchObject({ id: expect.stringMatching(/^in_/), mode: 'pull', ingest_url: expect.any(String) });
    const ingest = await fetch(`${ctx.server.url}/in/${inbound.id}`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(ingest.status).toBe(401);
    const rejections = await cliJson(['inbound', 'rejections', 'list', '--endpoint', inbound.id]);
    expect(rejections.data[0]).toMatchObject({ inbound_endpoint_id: inbound.id, reason: 'missing_signature' });
    expect((await cliJson(['inbound', 'events', 'list', '--endpoint', inbound.id])).data).toEqual([]);

    expect((await cli(['endpoints', 'delete', ep.id])).stdout).toBe(`deleted ${ep.id}\n`);
    const deleted = await cli(['endpoints', 'delete', ep.id, '--json']);
    expect(deleted.code).toBe(1);
  });
});

describe('hookbridge --help', () => {
  /** Every command of the tree with its full name; `leaf` = it runs something (no subcommands). */
  function commands(cmd: Command, prefix: string[] = []): Array<{ name: string; cmd: Command; leaf: boolean }> {
    const subs = cmd.commands.filter((c) => c.name() !== 'help');
    const self = prefix.length ? [{ name: prefix.join(' '), cmd, leaf: subs.length === 0 }] : [];
    return [...self, ...subs.flatMap((c) => commands(c, [...prefix, c.name()]))];
  }

  it('every command has examples in its --help, and every runnable one is in docs/cli.md', () => {
    const docs = fs.readFileSync(DOCS, 'utf8');
    const all = commands(buildProgram());
    expect(all.filter((c) => c.leaf).length).toBeGreaterThan(30);
    for (const { name, cmd, leaf } of all) {
      let text = '';
      cmd.configureOutput({ writeOut: (s) => (text += s), writeErr: (s) => (text += s) });
      cmd.outputHelp();
      expect(text, `hookbridge ${name} --help`).toMatch(/Examples?:/);
      if (leaf) expect(docs, `docs/cli.md documents hookbridge ${name}`).toContain(`hookbridge ${name}`);
    }
  });
});
