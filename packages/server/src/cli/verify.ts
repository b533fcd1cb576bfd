import type { Command } from 'commander';
import { WebhookVerificationError, verifyWebhook } from '@hookbridge/sdk';
import { EXIT, collectHeader, examples, intOption, localAction } from './api.js';
import { readBytes } from './input.js';
import { out, printJson } from './output.js';

/**
 * `hookbridge verify`: checks a webhook signature the way a receiver should (the SDK's
 * verifyWebhook: Standard Webhooks `webhook-*` or the hookbridge scheme's `x-webhook-*` headers),
 * to debug a receiver that refuses deliveries. Needs no server.
 */
export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description('Check a webhook signature given the secret, the headers and the exact body. Prints ok or why not.')
    .requiredOption('--secret <secret...>', 'the endpoint\'s signing secret (whsec_…); repeat during a rotation')
    .option('-H, --header <header>', "a received header, 'name: value' (repeatable)", collectHeader)
    .option('--body <text>', 'the body as received')
    .option('--file <file>', 'read the body from this file (exact bytes)')
    .option('--tolerance <seconds>', 'how far the timestamp may be from now', intOption('--tolerance', 0, 10 * 365 * 86400), 300)
    .option('--ignore-timestamp', 'do not check the timestamp (for an old delivery copied from a log)')
    .option('--json', 'print {"ok": true} or {"ok": false, "reason", "message"}')
    .addHelpText(
      'after',
      `
The body must be the exact bytes received (a body parsed and serialised again will not match).
With neither --body nor --file it is read from stdin. Exit code 0 when the signature is valid,
1 when it is not, 2 for bad usage.
${examples(
  `hookbridge verify --secret whsec_… -H 'webhook-id: msg_01…' -H 'webhook-timestamp: 1795943668' -H 'webhook-signature: v1,Udi…' --body '{"order_id":"o_1001"}'`,
  `hookbridge verify --secret whsec_… -H 'x-webhook-timestamp: 1795943668' -H 'x-webhook-signature: sha256=9f…' --file body.json --ignore-timestamp`,
)}`,
    )
    .action(
      localAction(async (_args, o) => {
        const body = await readBytes(o.body, o.file, '--body');
        const secrets: string[] = o.secret;
        try {
          await verifyWebhook(body, o.header ?? {}, secrets.length === 1 ? secrets[0] : secrets, { toleranceSeconds: o.ignoreTimestamp ? Infinity : o.tolerance });
          report(o.json, { ok: true });
        } catch (e) {
          if (!(e instanceof WebhookVerificationError)) throw e;
          // The signature matched; the body just is not JSON (Hookbridge always sends JSON, a test
          // body may not be). For a signature check that is a pass.
          if (e.reason === 'invalid_json') return report(o.json, { ok: true, note: 'signature valid; the body is not JSON' });
          report(o.json, { ok: false, reason: e.reason, message: e.message });
          process.exitCode = EXIT.refused;
        }
      }),
    );
}

function report(json: boolean, result: { ok: boolean; reason?: string; message?: string; note?: string }): void {
  if (json) return printJson(result);
  if (result.ok) out.write(`${out.c.green('ok')}${result.note ? ` (${result.note})` : ''}\n`);
  else out.write(`${out.c.red('invalid')}: ${result.reason} (${result.message})\n`);
}
