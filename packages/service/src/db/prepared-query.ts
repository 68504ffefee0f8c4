import type { Compilable, CompiledQuery, Kysely } from 'kysely';
import { dialectOf, type DatabaseDialect } from './backend.ts';

/** A bound value of a prepared query: one of the call's arguments, or a constant of the query. */
type Slot = { readonly argument: number } | { readonly constant: unknown };

/** Stands in for argument `index` while the query is built; no real value contains NUL twice like this. */
const placeholder = (index: number) => `\u0000orbis-prepared-argument-${index}\u0000`;

/**
 * A query on a hot path whose shape never changes: Kysely builds and compiles it once per
 * backend, and each call binds its arguments to that SQL, sparing the query builder and the
 * compiler (together, more than the statement itself costs SQLite). `build` must use its
 * arguments only as values, never to choose the query's shape; each must appear in it.
 */
export function preparedQuery<DB, Args extends readonly string[], Row>(
  build: (db: Kysely<DB>, ...args: Args) => Compilable<Row>,
): (db: Kysely<DB>, ...args: Args) => Promise<Row[]> {
  const compiled = new Map<DatabaseDialect, { query: CompiledQuery<Row>; slots: Slot[] }>();

  function prepare(db: Kysely<DB>, arity: number) {
    const placeholders = Array.from({ length: arity }, (_, index) => placeholder(index)) as unknown as Args;
    const query = build(db, ...placeholders).compile();
    const slots = query.parameters.map((value): Slot => {
      const argument = typeof value === 'string' ? placeholders.indexOf(value) : -1;
      return argument >= 0 ? { argument } : { constant: value };
    });
    const used = new Set(slots.flatMap((slot) => ('argument' in slot ? [slot.argument] : [])));
    if (used.size !== arity) throw new Error('a prepared query must bind each of its arguments as a value');
    return { query, slots };
  }

  return async (db, ...args) => {
    const dialect = dialectOf(db);
    let prepared = compiled.get(dialect);
    if (prepared === undefined) {
      prepared = prepare(db, args.length);
      compiled.set(dialect, prepared);
    }
    const parameters = prepared.slots.map((slot) =>
      'argument' in slot ? args[slot.argument] : slot.constant,
    );
    const result = await db.executeQuery<Row>({ ...prepared.query, parameters });
    return result.rows;
  };
}
