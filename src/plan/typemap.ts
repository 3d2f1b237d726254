// STUB — being written by the converters helper. Contract only.
import type { ColumnPlan } from '../types';
import type { ColumnProfile, SqliteColumn } from '../sqlite/types';

export interface MapColumnInput {
  table: string;
  column: SqliteColumn;
  profile: ColumnProfile;
  /** INTEGER PRIMARY KEY of a rowid table (an alias of rowid). */
  isRowidAlias: boolean;
  /** `type[:unit]` from --map / input.map, if any. */
  override: string | null;
  /** Apply suggestions (--infer). */
  infer: boolean;
}

export type MappedColumn = Pick<ColumnPlan, 'pgType' | 'converter' | 'reason' | 'warnings' | 'suggestions'>;

export function mapColumn(input: MapColumnInput): MappedColumn {
  throw new Error(`not implemented: ${input.table}.${input.column.name}`);
}

/** Translates a SQLite DEFAULT clause for a column of the given PostgreSQL type. */
export function translateDefault(sqliteDefault: string, pgType: string): { sql: string | null; warning: string | null } {
  throw new Error(`not implemented: ${sqliteDefault} ${pgType}`);
}
