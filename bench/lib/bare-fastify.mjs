// Baseline for W5: a bare Fastify route that reads the body as bytes and answers 202 — the least
// any HTTP ingest on this stack costs. No verification, nothing stored.
import Fastify from 'fastify';
import { serve } from './rpc.mjs';

const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
app.removeAllContentTypeParsers();
app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
app.post('/in/:id', async (_req, reply) => reply.code(202).send({ ok: true }));
await app.listen({ port: 0, host: '127.0.0.1' });

serve({ address: () => ({ url: `http://127.0.0.1:${app.server.address().port}` }) });
