// Input ids as SQL conditions. A frame's inputs were claimed in id order from
// the queue's head, so their ids are mostly runs of consecutive numbers: a
// long run is one `id BETWEEN ? AND ?` statement (one seek, then neighbouring
// rows) instead of its ids bound one by one in `IN` lists. Pure: the store
// runs the statements.

/** Durable Object SQLite binds at most 100 parameters per statement. */
export const MAX_IDS_PER_STATEMENT = 90;

/** Runs shorter than this stay in the `IN` lists: a statement of their own would cost more than it saves. */
export const MIN_RANGE_LENGTH = 8;

/** One statement's condition on `id` and the values it binds. */
export interface IdCondition {
  sql: string;
  params: number[];
}

/**
 * Conditions that together match exactly `ids` (any order, duplicates
 * allowed), one statement each: a run of at least MIN_RANGE_LENGTH
 * consecutive ids as a range, the other ids in `IN` lists of at most
 * MAX_IDS_PER_STATEMENT.
 */
export function idConditions(ids: readonly number[]): IdCondition[] {
  const sorted = [...new Set(ids)].sort((a, b) => a - b);
  const conditions: IdCondition[] = [];
  const rest: number[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    if (j - i + 1 >= MIN_RANGE_LENGTH) conditions.push({ sql: "id BETWEEN ? AND ?", params: [sorted[i], sorted[j]] });
    else rest.push(...sorted.slice(i, j + 1));
    i = j + 1;
  }
  for (let i = 0; i < rest.length; i += MAX_IDS_PER_STATEMENT) {
    const chunk = rest.slice(i, i + MAX_IDS_PER_STATEMENT);
    conditions.push({ sql: `id IN (${chunk.map(() => "?").join(",")})`, params: chunk });
  }
  return conditions;
}

/** Values a statement's worth at a time, with the `?, ?, …` that binds them in an `IN` list; `others` are the statement's other parameters. */
export function* inLists<T>(values: readonly T[], others = 0): Generator<{ chunk: T[]; marks: string }> {
  const size = MAX_IDS_PER_STATEMENT - others;
  for (let i = 0; i < values.length; i += size) {
    const chunk = values.slice(i, i + size);
    yield { chunk, marks: chunk.map(() => "?").join(",") };
  }
}
