/**
 * Every setting of the server in one place: its environment variable, its CLI flag, its default
 * and the line of documentation that docs/configuration.md and `--help` show. Nothing else in the
 * code base reads process.env for a setting.
 */
import path from 'node:path';
import { parseCidrList, type CidrList } from './core/ip-policy.js';

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string | undefined;
  dbPoolSize: number;
  role: 'all' | 'api' | 'worker';
  publicUrl: string;
  console: 'on' | 'off';
  consoleDir: string | undefined;
  bootstrapApiKey: string | undefined;
  masterKey: string | undefined;
  allowPrivateNetworks: CidrList;
  portalAllowPrivateNetworks: CidrList;
  forwardAllowNetworks: CidrList;
  trustProxy: CidrList;
  inboundDedupeWindowSeconds: number;
  inboundRetentionSeconds: number;
  logLevel: string;
  logFormat: 'json' | 'pretty';
  maxPayloadBytes: number;
  maxHeaderBytes: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  apiRateLimitPerMinute: number;
  leaseSeconds: number;
  defaultTimeoutMs: number;
  connectTimeoutMs: number;
  throttleMinDelaySeconds: number;
  workerConcurrency: number;
  endpointConcurrency: number;
  claimBatchSize: number;
  pollIntervalMs: number;
  shutdownGraceSeconds: number;
  metricsAuth: 'none' | 'admin';
  metricsPort: number | undefined;
  otlpEndpoint: string | undefined;
  payloadRetentionDays: number;
  recordRetentionDays: number;
  retentionIntervalSeconds: number;
  retentionBatchSize: number;
  disableAfterSeconds: number;
  disableMinFailures: number;
  inboundRejectedSummarySeconds: number;
}

type Key = keyof Config;

export interface SettingDef {
  key: Key;
  env: string;
  flag: string;
  /** Default as a user would type it (shown in docs and --help). Undefined = unset. */
  default: string | undefined;
  doc: string;
  parse: (raw: string | undefined, partial: Partial<Config>) => unknown;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function int(min: number, max: number) {
  return (raw: string | undefined, _p: Partial<Config>, s?: SettingDef): number => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new ConfigError(`${s?.env ?? 'setting'} must be an integer from ${min} to ${max}, got "${raw}"`);
    }
    return n;
  };
}

const str = (raw: string | undefined) => raw;

function oneOf<T extends string>(...values: T[]) {
  return (raw: string | undefined, _p: Partial<Config>, s?: SettingDef): T => {
    if (!values.includes(raw as T)) throw new ConfigError(`${s?.env ?? 'setting'} must be one of ${values.join(', ')}, got "${raw}"`);
    return raw as T;
  };
}

/** A number of days; fractions allowed (0.5 = 12 hours), so tests and trials can use short windows. */
function days(raw: string | undefined, _p: Partial<Config>, s?: SettingDef): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0 || n > 36500) throw new ConfigError(`${s?.env ?? 'setting'} must be a number of days above 0 (fractions allowed), got "${raw}"`);
  return n;
}

function cidrs(raw: string | undefined, _p: Partial<Config>, s?: SettingDef): CidrList {
  try {
    return parseCidrList(raw ?? '');
  } catch (e) {
    throw new ConfigError(`${s?.env ?? 'setting'}: ${(e as Error).message}`);
  }
}

/** Private ranges and loopback: where an operator's own services live (DESIGN.md §7). */
const OPERATOR_NETWORKS = '127.0.0.0/8,::1/128,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,100.64.0.0/10,fc00::/7';

/** The settings table. Order here is the order of docs/configuration.md. */
export const SETTINGS: SettingDef[] = [
  { key: 'port', env: 'HOOKBRIDGE_PORT', flag: '--port <n>', default: '8080', doc: 'TCP port the API, the web console and the ingest URLs listen on. 0 picks a free port.', parse: int(0, 65535) },
  { key: 'host', env: 'HOOKBRIDGE_HOST', flag: '--host <addr>', default: '0.0.0.0', doc: 'Address to listen on. Use 127.0.0.1 to keep the server private to this machine.', parse: str },
  { key: 'dataDir', env: 'HOOKBRIDGE_DATA_DIR', flag: '--data-dir <dir>', default: './.hookbridge', doc: 'Directory of the embedded store (hookbridge.db and its WAL) and of the generated master key. One server process owns it at a time.', parse: (raw) => path.resolve(raw ?? './.hookbridge') },
  { key: 'databaseUrl', env: 'HOOKBRIDGE_DATABASE_URL', flag: '--database-url <url>', default: undefined, doc: 'postgres://… selects the PostgreSQL store (PostgreSQL 15 or later) instead of the embedded one; HOOKBRIDGE_MASTER_KEY is then required.', parse: (raw) => {
    if (raw !== undefined && !/^postgres(ql)?:\/\//.test(raw)) throw new ConfigError('HOOKBRIDGE_DATABASE_URL must start with postgres:// or postgresql://');
    return raw;
  } },
  { key: 'dbPoolSize', env: 'HOOKBRIDGE_DB_POOL_SIZE', flag: '--db-pool-size <n>', default: '10', doc: 'Connections each process keeps to PostgreSQL (not used by the embedded store).', parse: int(1, 1000) },
  { key: 'role', env: 'HOOKBRIDGE_ROLE', flag: '--role <role>', default: 'all', doc: 'all: API and delivery worker in one process. api / worker: only one of them, for several processes sharing one PostgreSQL (needs HOOKBRIDGE_DATABASE_URL). A worker process serves only /healthz, /readyz and /metrics.', parse: (raw) => {
    if (raw !== 'all' && raw !== 'api' && raw !== 'worker') throw new ConfigError('HOOKBRIDGE_ROLE must be all, api or worker');
    return raw;
  } },
  { key: 'publicUrl', env: 'HOOKBRIDGE_PUBLIC_URL', flag: '--public-url <url>', default: undefined, doc: 'Base URL other systems reach this server on (used for ingest URLs). Default: http://localhost:$HOOKBRIDGE_PORT.', parse: (raw, p) => (raw ?? `http://localhost:${p.port ?? 8080}`).replace(/\/+$/, '') },
  { key: 'console', env: 'HOOKBRIDGE_CONSOLE', flag: '--console <on|off>', default: 'on', doc: 'on: serve the web console at / and the consumer portal at /portal/<project id> (API processes only; a worker serves none). off: neither, e.g. when the API is not meant for browsers.', parse: oneOf('on', 'off') },
  { key: 'consoleDir', env: 'HOOKBRIDGE_CONSOLE_DIR', flag: '--console-dir <dir>', default: undefined, doc: 'Directory of the console build (index.html and assets/). Unset: the build of packages/console (`npm run build`); when there is none, / answers a page that says how to build it.', parse: (raw) => (raw === undefined ? undefined : path.resolve(raw)) },
  { key: 'bootstrapApiKey', env: 'HOOKBRIDGE_BOOTSTRAP_API_KEY', flag: '--bootstrap-api-key <key>', default: undefined, doc: 'Admin API key to create on first start instead of a random one. Used only when the store has no project yet; never printed.', parse: (raw) => {
    if (raw !== undefined && raw.length < 16) throw new ConfigError('HOOKBRIDGE_BOOTSTRAP_API_KEY must be at least 16 characters');
    return raw;
  } },
  { key: 'masterKey', env: 'HOOKBRIDGE_MASTER_KEY', flag: '--master-key <base64>', default: undefined, doc: 'Base64 of 32 bytes; encrypts signing secrets at rest. When unset, the embedded store generates one in the data dir (mode 0600); required with PostgreSQL.', parse: (raw) => {
    if (raw !== undefined && Buffer.from(raw, 'base64').length !== 32) throw new ConfigError('HOOKBRIDGE_MASTER_KEY must be base64 of exactly 32 bytes');
    return raw;
  } },
  { key: 'allowPrivateNetworks', env: 'HOOKBRIDGE_ALLOW_PRIVATE_NETWORKS', flag: '--allow-private-networks <cidrs>', default: '', doc: 'Comma-separated CIDR list of private/loopback networks that endpoints may nevertheless be delivered to, e.g. 127.0.0.0/8,::1/128. Empty: only public unicast addresses. Link-local and metadata addresses open only with an entry no wider than their block.', parse: cidrs },
  { key: 'portalAllowPrivateNetworks', env: 'HOOKBRIDGE_PORTAL_ALLOW_PRIVATE_NETWORKS', flag: '--portal-allow-private-networks <cidrs>', default: '', doc: 'Like HOOKBRIDGE_ALLOW_PRIVATE_NETWORKS, for endpoint URLs set in a consumer portal session (checked when set and at every connection). Empty: consumers reach only public addresses, whatever the operator allows its own endpoints.', parse: cidrs },
  { key: 'forwardAllowNetworks', env: 'HOOKBRIDGE_FORWARD_ALLOW_NETWORKS', flag: '--forward-allow-networks <cidrs>', default: OPERATOR_NETWORKS, doc: 'Networks besides public unicast that inbound endpoints may forward to (your own services). Link-local and cloud metadata addresses (169.254.0.0/16, fe80::/10, fd00:ec2::254, 100.100.100.200, 192.0.0.192) stay refused unless an entry no wider than their block lists them (fc00::/7 does not open fd00:ec2::254).', parse: cidrs },
  { key: 'trustProxy', env: 'HOOKBRIDGE_TRUST_PROXY', flag: '--trust-proxy <cidrs>', default: '', doc: 'Proxies whose X-Forwarded-For is believed when deciding an ingest request\'s source address (for allowed_cidrs and rejection logs). Empty: the TCP peer address is the source.', parse: cidrs },
  { key: 'inboundDedupeWindowSeconds', env: 'HOOKBRIDGE_INBOUND_DEDUPE_WINDOW_SECONDS', flag: '--inbound-dedupe-window-seconds <n>', default: '259200', doc: 'How long an inbound event id is remembered for deduplication, for inbound endpoints that set no dedupe_window_seconds (default 3 days: Stripe retries for up to 3 days).', parse: int(0, 30 * 86400) },
  { key: 'inboundRetentionSeconds', env: 'HOOKBRIDGE_INBOUND_RETENTION_SECONDS', flag: '--inbound-retention-seconds <n>', default: '604800', doc: 'How long pull- and cli-mode events stay available (acknowledged or not), for inbound endpoints that set no retention_seconds.', parse: int(60, 365 * 86400) },
  { key: 'logLevel', env: 'HOOKBRIDGE_LOG_LEVEL', flag: '--log-level <level>', default: 'info', doc: 'fatal, error, warn, info, debug, trace or silent.', parse: (raw) => {
    const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
    if (!levels.includes(raw ?? '')) throw new ConfigError(`HOOKBRIDGE_LOG_LEVEL must be one of ${levels.join(', ')}`);
    return raw;
  } },
  { key: 'logFormat', env: 'HOOKBRIDGE_LOG_FORMAT', flag: '--log-format <format>', default: 'json', doc: 'json: one JSON object per line (for log collectors). pretty: coloured, human-readable lines (pino-pretty) for a terminal.', parse: oneOf('json', 'pretty') },
  { key: 'maxPayloadBytes', env: 'HOOKBRIDGE_MAX_PAYLOAD_BYTES', flag: '--max-payload-bytes <n>', default: '1048576', doc: 'Largest message payload (serialized JSON bytes) accepted; larger requests get 413 payload_too_large.', parse: int(1024, 64 * 1024 * 1024) },
  { key: 'maxHeaderBytes', env: 'HOOKBRIDGE_MAX_HEADER_BYTES', flag: '--max-header-bytes <n>', default: '16384', doc: 'Largest request line plus headers accepted, in bytes; larger requests get 431 headers_too_large and their connection is closed.', parse: int(1024, 1024 * 1024) },
  { key: 'headersTimeoutMs', env: 'HOOKBRIDGE_HEADERS_TIMEOUT_MS', flag: '--headers-timeout-ms <n>', default: '10000', doc: 'Most time a client may take to send the request line and headers, counted from the first byte (from the connection\'s start for a new connection). Slower clients (slowloris) get 408 request_timeout and are disconnected.', parse: int(100, 600_000) },
  { key: 'requestTimeoutMs', env: 'HOOKBRIDGE_REQUEST_TIMEOUT_MS', flag: '--request-timeout-ms <n>', default: '30000', doc: 'Most time a client may take to send a whole request, body included (at least HOOKBRIDGE_HEADERS_TIMEOUT_MS); then 408 request_timeout. It bounds receiving only: answers may take longer, so long-polls (wait up to 60 s) and WebSocket streams are not cut.', parse: int(100, 3_600_000) },
  { key: 'apiRateLimitPerMinute', env: 'HOOKBRIDGE_API_RATE_LIMIT_PER_MINUTE', flag: '--api-rate-limit-per-minute <n>', default: '0', doc: 'Default per-project API request limit (0 = unlimited); a project can set its own api_rate_limit_per_minute. Over the limit: 429 rate_limited with Retry-After.', parse: int(0, 10_000_000) },
  { key: 'leaseSeconds', env: 'HOOKBRIDGE_LEASE_SECONDS', flag: '--lease-seconds <n>', default: '30', doc: 'How long a claimed delivery stays with its worker; a delivery whose worker died is claimed again after it. Always at least twice the endpoint timeout + 10 s (a claimed delivery may wait for one attempt of its endpoint before its own).', parse: int(1, 3600) },
  { key: 'defaultTimeoutMs', env: 'HOOKBRIDGE_DEFAULT_TIMEOUT_MS', flag: '--default-timeout-ms <n>', default: '15000', doc: 'Timeout of one delivery attempt (connect + response headers + first 16 KiB of body) for endpoints without timeout_ms (1000–30000).', parse: int(1000, 30000) },
  { key: 'connectTimeoutMs', env: 'HOOKBRIDGE_CONNECT_TIMEOUT_MS', flag: '--connect-timeout-ms <n>', default: '10000', doc: 'TCP/TLS connect timeout of delivery attempts (also bounded by the attempt timeout).', parse: int(100, 30000) },
  { key: 'throttleMinDelaySeconds', env: 'HOOKBRIDGE_THROTTLE_MIN_DELAY_SECONDS', flag: '--throttle-min-delay-seconds <n>', default: '60', doc: 'Least wait before retrying after a 429 or a timeout, whatever the retry schedule says.', parse: (raw) => {
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0 || n > 86400) throw new ConfigError('HOOKBRIDGE_THROTTLE_MIN_DELAY_SECONDS must be a number from 0 to 86400');
    return n;
  } },
  { key: 'workerConcurrency', env: 'HOOKBRIDGE_WORKER_CONCURRENCY', flag: '--worker-concurrency <n>', default: '128', doc: 'Most delivery attempts one process has in flight at once.', parse: int(1, 10000) },
  { key: 'endpointConcurrency', env: 'HOOKBRIDGE_ENDPOINT_CONCURRENCY', flag: '--endpoint-concurrency <n>', default: '16', doc: 'Most requests in flight to one endpoint, so a slow or dead endpoint cannot take every slot (fifo endpoints: one). Each endpoint starts at a quarter of this, gains one per answered request and halves on each timeout, so endpoints that hang hold few slots. Embedded store: per process, and the worker claims up to twice this many ahead. PostgreSQL: most deliveries of one endpoint claimed at once across all workers.', parse: int(1, 10000) },
  { key: 'claimBatchSize', env: 'HOOKBRIDGE_CLAIM_BATCH_SIZE', flag: '--claim-batch-size <n>', default: '100', doc: 'Most deliveries claimed in one store transaction.', parse: int(1, 10000) },
  { key: 'pollIntervalMs', env: 'HOOKBRIDGE_POLL_INTERVAL_MS', flag: '--poll-interval-ms <n>', default: '1000', doc: 'Safety-net poll of the store for due work; new messages and retries due sooner wake the worker at once.', parse: int(10, 60000) },
  { key: 'shutdownGraceSeconds', env: 'HOOKBRIDGE_SHUTDOWN_GRACE_SECONDS', flag: '--shutdown-grace-seconds <n>', default: '20', doc: 'On SIGTERM/SIGINT, how long in-flight attempts may finish before they are abandoned (and delivered again after restart).', parse: int(0, 600) },
  { key: 'metricsAuth', env: 'HOOKBRIDGE_METRICS_AUTH', flag: '--metrics-auth <mode>', default: 'none', doc: 'Who may read GET /metrics (Prometheus text). none: anyone who can reach it. admin: only requests with an admin API key as bearer token.', parse: oneOf('none', 'admin') },
  { key: 'metricsPort', env: 'HOOKBRIDGE_METRICS_PORT', flag: '--metrics-port <n>', default: undefined, doc: 'Serve GET /metrics on this port (on HOOKBRIDGE_HOST) instead of the API port, e.g. to keep it off a public load balancer. Unset: on the API port.', parse: (raw: string | undefined, p: Partial<Config>) => (raw === undefined ? undefined : int(0, 65535)(raw, p, SETTINGS.find((x) => x.key === 'metricsPort'))) },
  { key: 'otlpEndpoint', env: 'HOOKBRIDGE_OTLP_ENDPOINT', flag: '--otlp-endpoint <url>', default: undefined, doc: 'OpenTelemetry collector base URL (OTLP over HTTP, e.g. http://127.0.0.1:4318); when set, traces of API requests, messages and delivery attempts are exported to <url>/v1/traces. Unset: no tracing.', parse: (raw) => {
    if (raw !== undefined && !/^https?:\/\//.test(raw)) throw new ConfigError('HOOKBRIDGE_OTLP_ENDPOINT must be an http:// or https:// URL');
    return raw?.replace(/\/+$/, '');
  } },
  { key: 'payloadRetentionDays', env: 'HOOKBRIDGE_PAYLOAD_RETENTION_DAYS', flag: '--payload-retention-days <n>', default: '30', doc: 'For projects that set no payload_retention_days: messages older than this many days whose deliveries all finished lose their payload and their attempts\' response excerpts (metadata and attempts stay); replaying them then answers 410 payload_expired.', parse: days },
  { key: 'recordRetentionDays', env: 'HOOKBRIDGE_RECORD_RETENTION_DAYS', flag: '--record-retention-days <n>', default: '90', doc: 'For projects that set no record_retention_days: messages older than this many days whose deliveries all finished are deleted with their deliveries and attempts, as are older inbound rejections (expired export jobs go too). Below 1 day shortens the 24 h idempotency-key promise (projects may not go below 1).', parse: days },
  { key: 'retentionIntervalSeconds', env: 'HOOKBRIDGE_RETENTION_INTERVAL_SECONDS', flag: '--retention-interval-seconds <n>', default: '60', doc: 'How often the background retention job runs (in small batches that never block delivery).', parse: int(1, 86400) },
  { key: 'retentionBatchSize', env: 'HOOKBRIDGE_RETENTION_BATCH_SIZE', flag: '--retention-batch-size <n>', default: '500', doc: 'Most messages the retention job handles in one transaction.', parse: int(1, 100_000) },
  { key: 'disableAfterSeconds', env: 'HOOKBRIDGE_DISABLE_AFTER_SECONDS', flag: '--disable-after-seconds <n>', default: '432000', doc: 'Auto-disable: an endpoint with no successful attempt for this long (default 5 days) and at least HOOKBRIDGE_DISABLE_MIN_FAILURES failed attempts becomes disabled (resume re-enables it). 0 = never. Projects (disable_after_seconds) and endpoints override it.', parse: int(0, 365 * 86400) },
  { key: 'disableMinFailures', env: 'HOOKBRIDGE_DISABLE_MIN_FAILURES', flag: '--disable-min-failures <n>', default: '20', doc: 'Auto-disable: the least number of failed attempts in a row before an endpoint can be disabled. Projects (disable_min_failures) and endpoints override it.', parse: int(1, 1_000_000) },
  { key: 'inboundRejectedSummarySeconds', env: 'HOOKBRIDGE_INBOUND_REJECTED_SUMMARY_SECONDS', flag: '--inbound-rejected-summary-seconds <n>', default: '300', doc: 'Period of the hookbridge.inbound.rejected operational webhook: at most one per inbound endpoint per period, counting the period\'s refusals by reason.', parse: int(1, 86400) },
];

/**
 * Builds the configuration from CLI flags (highest), environment variables, then defaults.
 * `flags` is keyed by Config key, as commander gives them.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, flags: Partial<Record<Key, string>> = {}): Config {
  const partial: Partial<Config> = {};
  for (const s of SETTINGS) {
    const fromFlag = flags[s.key];
    const fromEnv = env[s.env];
    const raw = fromFlag ?? (fromEnv !== undefined && fromEnv !== '' ? fromEnv : s.default);
    const parse = s.parse as (raw: string | undefined, p: Partial<Config>, s: SettingDef) => unknown;
    (partial as Record<string, unknown>)[s.key] = parse(raw, partial, s);
  }
  if (partial.role !== 'all' && !partial.databaseUrl) {
    // The embedded store belongs to one process, so API and worker cannot be split with it.
    throw new ConfigError(`HOOKBRIDGE_ROLE=${partial.role} needs HOOKBRIDGE_DATABASE_URL (the embedded store serves one process that is both)`);
  }
  if (partial.requestTimeoutMs! < partial.headersTimeoutMs!) {
    // The headers are part of the request: a shorter whole-request limit would make the other moot.
    throw new ConfigError(`HOOKBRIDGE_REQUEST_TIMEOUT_MS (${partial.requestTimeoutMs}) must be at least HOOKBRIDGE_HEADERS_TIMEOUT_MS (${partial.headersTimeoutMs})`);
  }
  if (partial.databaseUrl && !partial.masterKey) {
    // With a shared database, every process must encrypt and decrypt secrets with the same key,
    // so it cannot be generated per data dir.
    throw new ConfigError('HOOKBRIDGE_MASTER_KEY is required with HOOKBRIDGE_DATABASE_URL (base64 of 32 bytes; e.g. `openssl rand -base64 32`)');
  }
  return partial as Config;
}

/** Markdown table of every setting, for docs/configuration.md. */
export function settingsMarkdown(): string {
  const rows = SETTINGS.map((s) => `| \`${s.env}\` | \`${s.flag}\` | ${s.default === undefined ? '(unset)' : `\`${s.default}\``} | ${s.doc} |`);
  return ['| env var | `hookbridge serve` flag | default | meaning |', '|---|---|---|---|', ...rows].join('\n');
}
