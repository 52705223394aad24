// PostgreSQL migration 5, as SQLite's 5: Image Builder records' `_`-prefixed members of amiforge's
// own (an image's `_resources`, a pipeline's `_lastBuild`, ...) get names of their own. One
// UPDATE per renamed member, only on the documents that still have it.
import { IB_MEMBER_RENAMES } from '../ib-record-renames.ts';

const literal = (s: string) => `'${s.replace(/'/g, "''")}'`;

export const IB_RECORDS_SQL = Object.entries(IB_MEMBER_RENAMES).flatMap(([kind, renames]) =>
  Object.entries(renames!).map(([from, to]) =>
    `UPDATE ib_records SET doc = (doc - ${literal(from)}) || jsonb_build_object(${literal(to)}, doc -> ${literal(from)})
  WHERE kind = ${literal(kind)} AND doc ? ${literal(from)};`)).join('\n');
