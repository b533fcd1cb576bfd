/**
 * curl commands for empty states and forms: the same request the console makes, against this
 * server, with the key taken from the environment (never the signed-in key: a command is copied
 * into shells, histories and chat messages).
 */
export function curl(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown): string {
  const lines = [`curl -s -X ${method} ${location.origin}/v1${path}`, `  -H "Authorization: Bearer $HOOKBRIDGE_API_KEY"`];
  if (body !== undefined) {
    lines.push(`  -H 'content-type: application/json'`);
    // Single quotes in a shell string end it: write them as '\'' (close, escaped quote, reopen).
    lines.push(`  -d '${JSON.stringify(body).replace(/'/g, `'\\''`)}'`);
  }
  return lines.join(' \\\n');
}
