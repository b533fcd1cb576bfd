/**
 * Where the CLI finds the server and the API key. The client settings live here, apart from the
 * server's (src/config.ts): they belong to the person running `hookbridge …`, not to a deployment,
 * and they are kept in that person's home, never in the data dir.
 *
 * Precedence, first one set wins: the --server / --api-key flags, then HOOKBRIDGE_URL /
 * HOOKBRIDGE_API_KEY, then the config file that `hookbridge login` writes, then (URL only)
 * http://localhost:8080. URL and key are resolved separately, so `HOOKBRIDGE_API_KEY=… hookbridge …`
 * uses the logged-in URL with another key.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const DEFAULT_URL = 'http://localhost:8080';

/** The environment variables the CLI itself reads (the server's are in src/config.ts). */
export const CLIENT_ENV = {
  url: 'HOOKBRIDGE_URL',
  apiKey: 'HOOKBRIDGE_API_KEY',
  configFile: 'HOOKBRIDGE_CONFIG_FILE',
} as const;

export interface SavedConfig {
  url?: string;
  api_key?: string;
}

/** A broken config file or unusable setting: exit code 2. */
export class UsageError extends Error {}

/** $HOOKBRIDGE_CONFIG_FILE, else $XDG_CONFIG_HOME/hookbridge/config.json, else ~/.config/hookbridge/config.json. */
export function configFilePath(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env[CLIENT_ENV.configFile];
  if (explicit) return path.resolve(explicit);
  const base = env.XDG_CONFIG_HOME ? env.XDG_CONFIG_HOME : path.join(env.HOME || os.homedir(), '.config');
  return path.join(base, 'hookbridge', 'config.json');
}

export function readConfigFile(file = configFilePath()): SavedConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new UsageError(`cannot read the config file ${file}: ${(e as Error).message}`);
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a JSON object');
    const { url, api_key } = parsed as Record<string, unknown>;
    return { url: typeof url === 'string' ? url : undefined, api_key: typeof api_key === 'string' ? api_key : undefined };
  } catch (e) {
    throw new UsageError(`the config file ${file} is not valid (${(e as Error).message}); fix it or run \`hookbridge login\` again`);
  }
}

/**
 * Writes the file with mode 0600 (its directory 0700): it holds an API key. Written to a temp file
 * created 0600 and renamed over the old one, so the key is never readable by others, not even for
 * a moment, and a crash leaves the old file whole.
 */
export function writeConfigFile(config: SavedConfig, file = configFilePath()): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 });
  fs.chmodSync(tmp, 0o600); // the umask cannot widen 0600, but an existing tmp file keeps its mode
  fs.renameSync(tmp, file);
}

export interface Connection {
  url: string;
  apiKey: string | undefined;
  /** Where each value came from, for error messages ("the key from HOOKBRIDGE_API_KEY was refused"). */
  urlSource: string;
  apiKeySource: string;
}

/** Resolves URL and key by the precedence above. */
export function resolveConnection(flags: { server?: string; apiKey?: string }, env: NodeJS.ProcessEnv = process.env): Connection {
  const file = configFilePath(env);
  // Read the file only when a value is still missing, so a broken file does not stop a fully
  // specified command.
  const needFile = !(flags.server || env[CLIENT_ENV.url]) || !(flags.apiKey || env[CLIENT_ENV.apiKey]);
  const saved = needFile ? readConfigFile(file) : {};
  const pick = (flag: string | undefined, flagName: string, envName: string, fromFile: string | undefined): [string | undefined, string] => {
    if (flag) return [flag, flagName];
    if (env[envName]) return [env[envName], envName];
    if (fromFile) return [fromFile, file];
    return [undefined, 'nowhere'];
  };
  const [url, urlSource] = pick(flags.server, '--server', CLIENT_ENV.url, saved.url);
  const [apiKey, apiKeySource] = pick(flags.apiKey, '--api-key', CLIENT_ENV.apiKey, saved.api_key);
  return { url: normalizeUrl(url ?? DEFAULT_URL), apiKey, urlSource: url ? urlSource : 'the default', apiKeySource };
}

export function normalizeUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new UsageError(`not a URL: ${raw} (expected e.g. ${DEFAULT_URL})`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UsageError(`the server URL must be http(s): ${raw}`);
  return u.toString().replace(/\/+$/, '');
}
