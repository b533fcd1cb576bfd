/**
 * The URL a listener on `host`:`port` is reached at from this machine: a wildcard address
 * (0.0.0.0, ::) as localhost, an IPv6 literal in brackets.
 */
export function localUrl(host: string, port: number): string {
  const shown = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  return `http://${shown}:${port}`;
}
