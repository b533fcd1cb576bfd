// W3's backlog, written with bulk SQL while the server is stopped: `messages` × `endpoints`
// deliveries in `pending_retry`, due a day from now, as if each had failed once. Only the rows the
// claim and publish paths see are written (no attempt rows).
import path from 'node:path';
import { createRequire } from 'node:module';
import pg from 'pg';

const require = createRequire(import.meta.url);
const DAY = 86_400_000;

export async function seedBacklog(hb, { messages, endpointIds, payload }) {
  const now = Date.now();
  const due = now + DAY;
  if (hb.store === 'sqlite') {
    const Database = require('better-sqlite3');
    const db = new Database(path.join(hb.storeEnv.HOOKBRIDGE_DATA_DIR, 'hookbridge.db'));
    const project = db.prepare('SELECT id FROM projects ORDER BY id LIMIT 1').get().id;
    db.transaction(() => {
      db.prepare(`INSERT INTO messages (id, project_id, event_type, broadcast, payload, request_hash, created_at)
        WITH RECURSIVE s(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM s WHERE n < ? - 1)
        SELECT printf('msg_backlog%08d', n), ?, 'bench.backlog', 0, ?, 'bench', ? FROM s`).run(messages, project, payload, now);
      const insert = db.prepare(`INSERT INTO deliveries (id, project_id, message_id, endpoint_id, event_type, status, attempt_count, run_attempts, replay_count,
          next_attempt_at, last_status_code, last_error, last_attempt_at, created_at, updated_at)
        SELECT printf('dlv_backlog%03d', ?) || substr(id, 12), project_id, id, ?, 'bench.backlog', 'pending_retry', 1, 1, 0, ?, 503, 'endpoint answered 503', ?, ?, ?
        FROM messages WHERE id >= 'msg_backlog' AND id < 'msg_backlogz'`);
      endpointIds.forEach((ep, k) => insert.run(k, ep, due, now, now, now));
    })();
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    return;
  }
  const client = new pg.Client({ connectionString: hb.storeEnv.HOOKBRIDGE_DATABASE_URL });
  await client.connect();
  try {
    const project = (await client.query('SELECT id FROM projects ORDER BY id LIMIT 1')).rows[0].id;
    await client.query('BEGIN');
    await client.query(`INSERT INTO messages (id, project_id, event_type, broadcast, payload, request_hash, created_at)
      SELECT format('msg_backlog%s', lpad(n::text, 8, '0')), $1, 'bench.backlog', 0, $2, 'bench', $3 FROM generate_series(0, $4 - 1) n`, [project, payload, now, messages]);
    for (const [k, ep] of endpointIds.entries()) {
      await client.query(`INSERT INTO deliveries (id, project_id, message_id, endpoint_id, event_type, status, attempt_count, run_attempts, replay_count,
          next_attempt_at, last_status_code, last_error, last_attempt_at, created_at, updated_at)
        SELECT format('dlv_backlog%s', lpad($1::text, 3, '0')) || substr(id, 12), project_id, id, $2, 'bench.backlog', 'pending_retry', 1, 1, 0, $3, 503, 'endpoint answered 503', $4, $4, $4
        FROM messages WHERE id >= 'msg_backlog' AND id < 'msg_backlogz'`, [k, ep, due, now]);
    }
    await client.query('COMMIT');
    await client.query('ANALYZE deliveries');
    await client.query('ANALYZE messages');
  } finally {
    await client.end();
  }
}
