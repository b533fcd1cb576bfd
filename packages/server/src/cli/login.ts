import type { Command } from 'commander';
import { HookbridgeClient } from '@hookbridge/sdk';
import { VERSION } from '../version.js';
import { localAction } from './api.js';
import { CLIENT_ENV, DEFAULT_URL, UsageError, configFilePath, normalizeUrl, readConfigFile, writeConfigFile, type SavedConfig } from './config-file.js';
import { readStdin } from './input.js';
import { notice, out, printJson } from './output.js';
import type { Page } from './output.js';

/**
 * `hookbridge login`: checks a server URL and API key against the server, then saves both in the
 * user's config file (mode 0600) so later commands need neither. Nothing is saved when the check
 * fails, so a typo cannot replace a working login.
 */
export function registerLogin(program: Command): void {
  program
    .command('login')
    .description('Check an API key against the server and save URL + key for later commands.')
    .option('--url <url>', `the server (default: ${CLIENT_ENV.url}, else the saved URL, else http://localhost:8080)`)
    .option('--api-key <key>', `the key (default: ${CLIENT_ENV.apiKey}, else read from stdin when piped)`)
    .option('--json', 'print {url, project_id, config_file} as JSON')
    .addHelpText(
      'after',
      `
The file is $${CLIENT_ENV.configFile} if set, else $XDG_CONFIG_HOME/hookbridge/config.json,
else ~/.config/hookbridge/config.json. Later commands take URL and key from (first wins):
--server / --api-key, then ${CLIENT_ENV.url} / ${CLIENT_ENV.apiKey}, then this file.
A key on the command line can end up in your shell history: prefer the environment or stdin.

Examples:
  $ hookbridge login --url http://localhost:8080 --api-key hb_live_…
  $ pbpaste | hookbridge login --url https://hooks.example.com
  $ HOOKBRIDGE_API_KEY=hb_live_… hookbridge login`,
    )
    .action(
      localAction(async (_args, opts) => {
        const file = configFilePath();
        // login is how a broken config file gets repaired, so a broken one is only warned about.
        let previous: SavedConfig = {};
        try {
          previous = readConfigFile(file);
        } catch (e) {
          notice(`hookbridge: ${(e as Error).message}; it will be replaced`);
        }
        const url = normalizeUrl(opts.url ?? process.env[CLIENT_ENV.url] ?? previous.url ?? DEFAULT_URL);
        let key: string | undefined = opts.apiKey ?? process.env[CLIENT_ENV.apiKey];
        if (!key && !process.stdin.isTTY) key = (await readStdin()).toString('utf8').trim();
        if (!key) throw new UsageError(`give the API key with --api-key, ${CLIENT_ENV.apiKey} or on stdin`);

        // Any valid key may list its own project's keys, which also tells us the project.
        const client = new HookbridgeClient({ baseUrl: url, apiKey: key, maxRetries: 1, timeoutMs: 15_000, userAgent: `hookbridge-cli/${VERSION}` });
        const keys = await client.request<Page<{ project_id: string; prefix: string; admin: boolean }>>('GET', '/v1/api-keys', { query: { limit: 250 } });
        const mine = keys.data.find((k) => key!.startsWith(k.prefix));
        const projectId = mine?.project_id ?? keys.data[0]?.project_id ?? null;

        writeConfigFile({ ...previous, url, api_key: key }, file);
        if (opts.json) return printJson({ url, project_id: projectId, admin: mine?.admin ?? null, config_file: file });
        const who = projectId ? ` (project ${projectId}${mine?.admin ? ', admin key' : ''})` : '';
        out.write(`Logged in to ${url}${who}.\nSaved to ${file} (mode 0600).\n`);
      }),
    );
}
