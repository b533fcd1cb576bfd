/**
 * Statements on the hot path, built and compiled by Kysely once per dialect instead of on every
 * call. Kysely's builders are immutable and its compiler walks the whole operation tree each time:
 * in bench W1's profile, building and compiling came to about 15% of the server's CPU, more than
 * running the SQL. A hot query's builder is called once with placeholders in place of the values;
 * compiling it shows which placeholder fills which parameter slot, and later calls send the same
 * SQL text with the values in those slots (the driver then reuses its prepared statement).
 *
 * Only for statements whose SQL does not depend on the values: scalar parameters, no IN-lists, no
 * clauses added conditionally. Values the builder writes itself (a constant null) stay constants;
 * a builder may spread its parameters (an insert's row): their names are then part of the shape.
 */
import { CompiledQuery, type Compilable, type Kysely } from 'kysely';
import type { Database } from './schema.js';

type Slot<P> = { param: keyof P } | { constant: unknown };

export function hotQuery<P extends object, R = unknown>(build: (db: Kysely<Database>, p: P) => Compilable<R>) {
  // Per dialect (a transaction shares its database's adapter), then per set of parameter names:
  // the builder may spread the parameters (an insert's row), so their names are part of the shape.
  const compiled = new WeakMap<object, Map<string, { sql: string; slots: Slot<P>[] }>>();
  const compile = (db: Kysely<Database>, names: string[]) => {
    const marks = new Map<string, keyof P>();
    const mark = (key: string | symbol) => {
      const m = `\u0000hot-query:${String(key)}`;
      marks.set(m, key as keyof P);
      return m;
    };
    const placeholders = new Proxy({} as P, {
      get: (_target, key) => mark(key),
      ownKeys: () => names,
      getOwnPropertyDescriptor: (_target, key) => ({ value: mark(key), enumerable: true, configurable: true, writable: false }),
    });
    const q = build(db, placeholders).compile();
    const slots = q.parameters.map((v): Slot<P> => (typeof v === 'string' && marks.has(v) ? { param: marks.get(v)! } : { constant: v }));
    for (const m of marks.keys()) {
      if (q.sql.includes(m)) throw new Error(`hot query placeholder ended up in the SQL text: ${q.sql}`);
    }
    return { sql: q.sql, slots };
  };
  return async (db: Kysely<Database>, params: P): Promise<R[]> => {
    const adapter = db.getExecutor().adapter;
    let byShape = compiled.get(adapter);
    if (!byShape) compiled.set(adapter, (byShape = new Map()));
    const names = Object.keys(params);
    const shape = names.join(',');
    let c = byShape.get(shape);
    if (!c) byShape.set(shape, (c = compile(db, names)));
    const values = c.slots.map((s) => ('param' in s ? params[s.param] : s.constant));
    const result = await db.executeQuery<R>(CompiledQuery.raw(c.sql, values));
    return result.rows;
  };
}
