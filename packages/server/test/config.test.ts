import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, SETTINGS, settingsMarkdown } from '../src/config.js';
import { VERSION } from '../src/version.js';
import { SERVER_PACKAGE } from './helpers.js';

describe('config', () => {
  it('has the documented defaults', () => {
    const c = loadConfig({});
    expect(c.port).toBe(8080);
    expect(c.dataDir).toBe(path.resolve('./.hookbridge'));
    expect(c.publicUrl).toBe('http://localhost:8080');
    expect(c.allowPrivateNetworks).toEqual([]);
    expect(c.maxPayloadBytes).toBe(1024 * 1024);
    expect(c.leaseSeconds).toBe(30);
    expect(c.throttleMinDelaySeconds).toBe(60);
    expect(c.defaultTimeoutMs).toBe(15000);
    expect(c.maxHeaderBytes).toBe(16384);
    expect(c.headersTimeoutMs).toBe(10000);
    expect(c.requestTimeoutMs).toBe(30000);
  });

  it('takes flags over env over defaults', () => {
    expect(loadConfig({ HOOKBRIDGE_PORT: '9000' }).port).toBe(9000);
    expect(loadConfig({ HOOKBRIDGE_PORT: '9000' }, { port: '9100' }).port).toBe(9100);
    expect(loadConfig({ HOOKBRIDGE_PORT: '9000' }).publicUrl).toBe('http://localhost:9000');
    expect(loadConfig({ HOOKBRIDGE_ALLOW_PRIVATE_NETWORKS: '127.0.0.0/8, ::1/128' }).allowPrivateNetworks).toHaveLength(2);
  });

  it('refuses bad values with a message naming the variable', () => {
    expect(() => loadConfig({ HOOKBRIDGE_PORT: 'abc' })).toThrow(/HOOKBRIDGE_PORT/);
    expect(() => loadConfig({ HOOKBRIDGE_PORT: '70000' })).toThrow(ConfigError);
    expect(() => loadConfig({ HOOKBRIDGE_ALLOW_PRIVATE_NETWORKS: 'banana' })).toThrow(/HOOKBRIDGE_ALLOW_PRIVATE_NETWORKS/);
    expect(() => loadConfig({ HOOKBRIDGE_MASTER_KEY: 'c2hvcnQ=' })).toThrow(/32 bytes/);
    expect(() => loadConfig({ HOOKBRIDGE_LOG_LEVEL: 'loud' })).toThrow(/HOOKBRIDGE_LOG_LEVEL/);
    expect(() => loadConfig({ HOOKBRIDGE_DEFAULT_TIMEOUT_MS: '60000' })).toThrow(/1000 to 30000/);
    expect(() => loadConfig({ HOOKBRIDGE_DATABASE_URL: 'mysql://x' })).toThrow(/postgres:\/\//);
    expect(() => loadConfig({ HOOKBRIDGE_HEADERS_TIMEOUT_MS: '20000', HOOKBRIDGE_REQUEST_TIMEOUT_MS: '10000' })).toThrow(/at least HOOKBRIDGE_HEADERS_TIMEOUT_MS/);
    expect(() => loadConfig({ HOOKBRIDGE_MAX_HEADER_BYTES: '100' })).toThrow(/HOOKBRIDGE_MAX_HEADER_BYTES/);
  });

  it('splits API and worker only on PostgreSQL', () => {
    expect(() => loadConfig({ HOOKBRIDGE_ROLE: 'worker' })).toThrow(/needs HOOKBRIDGE_DATABASE_URL/);
    expect(() => loadConfig({ HOOKBRIDGE_ROLE: 'both' })).toThrow(/all, api or worker/);
    const key = Buffer.alloc(32, 7).toString('base64');
    expect(loadConfig({ HOOKBRIDGE_ROLE: 'api', HOOKBRIDGE_DATABASE_URL: 'postgres://db/hb', HOOKBRIDGE_MASTER_KEY: key }).role).toBe('api');
  });

  it('needs a master key with PostgreSQL: every process must read the same secrets', () => {
    expect(() => loadConfig({ HOOKBRIDGE_DATABASE_URL: 'postgres://db/hb' })).toThrow(/HOOKBRIDGE_MASTER_KEY is required/);
    const key = Buffer.alloc(32, 7).toString('base64');
    expect(loadConfig({ HOOKBRIDGE_DATABASE_URL: 'postgres://db/hb', HOOKBRIDGE_MASTER_KEY: key }).databaseUrl).toBe('postgres://db/hb');
  });

  it('docs/configuration.md lists exactly the settings the code reads (run npm run docs:config)', () => {
    const doc = fs.readFileSync(path.join(SERVER_PACKAGE, '../../docs/configuration.md'), 'utf8');
    expect(doc).toContain(settingsMarkdown());
    for (const s of SETTINGS) expect(doc).toContain(s.env);
  });

  it('VERSION matches the package version', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(SERVER_PACKAGE, 'package.json'), 'utf8'));
    expect(VERSION).toBe(pkg.version);
  });
});
