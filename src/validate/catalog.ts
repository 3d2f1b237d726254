// What validation reads from the target's catalog: tables, column types, sequences, constraints.
import type pg from 'pg';

export interface TargetColumn {
  name: string;
  /** format_type(): 'double precision', 'numeric(10,2)', 'character varying(20)', 'real', … */
  pgType: string;
  notNull: boolean;
  hasDefault: boolean;
  identity: boolean;
}

/** Columns of every table of a schema, by table name (attnum order). */
export async function targetSchemaColumns(client: pg.ClientBase, schema: string): Promise<Map<string, TargetColumn[]>> {
  const r = await client.query<{ table: string; name: string; type: string; notnull: boolean; hasdef: boolean; identity: string }>(
    `SELECT c.relname AS table, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
            a.attnotnull AS notnull, a.atthasdef AS hasdef, a.attidentity AS identity
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY c.relname, a.attnum`,
    [schema],
  );
  const out = new Map<string, TargetColumn[]>();
  for (const row of r.rows) {
    let cols = out.get(row.table);
    if (!cols) out.set(row.table, (cols = []));
    cols.push({ name: row.name, pgType: row.type, notNull: row.notnull, hasDefault: row.hasdef, identity: row.identity !== '' });
  }
  return out;
}

export async function targetColumns(client: pg.ClientBase, schema: string, table: string): Promise<TargetColumn[] | null> {
  const all = await targetSchemaColumns(client, schema);
  return all.get(table) ?? null;
}

export interface SequenceState {
  table: string;
  column: string;
  sequence: string;
  /** The value the next nextval() returns (read without consuming one). */
  next: string | null;
  max: string | null;
}

/**
 * Every identity/serial sequence of a schema's tables, its next value (from pg_sequences /
 * the sequence's last_value and is_called, never nextval) and the column's max.
 */
export async function sequenceStates(client: pg.ClientBase, schema: string, tables: Set<string>): Promise<SequenceState[]> {
  const r = await client.query<{ table: string; column: string; seq: string }>(
    `SELECT c.relname AS table, a.attname AS column, pg_get_serial_sequence(format('%I.%I', n.nspname, c.relname), a.attname) AS seq
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
        AND pg_get_serial_sequence(format('%I.%I', n.nspname, c.relname), a.attname) IS NOT NULL`,
    [schema],
  );
  const out: SequenceState[] = [];
  for (const row of r.rows) {
    if (!tables.has(row.table)) continue;
    // seq comes back quoted and qualified. Reading the sequence relation does not consume a value.
    const s = await client.query<{ next: string | null }>(
      `SELECT (CASE WHEN is_called THEN last_value + 1 ELSE last_value END)::text AS next FROM ${row.seq}`,
    );
    const m = await client.query<{ max: string | null }>(
      `SELECT max(${quote(row.column)})::text AS max FROM ${quote(schema)}.${quote(row.table)}`,
    );
    out.push({ table: row.table, column: row.column, sequence: row.seq, next: s.rows[0]?.next ?? null, max: m.rows[0]?.max ?? null });
  }
  return out;
}

export interface ConstraintState {
  table: string;
  name: string;
  /** p primary key, u unique, f foreign key, c check */
  type: string;
  validated: boolean;
  columns: string[];
}

export async function constraintStates(client: pg.ClientBase, schema: string): Promise<ConstraintState[]> {
  const r = await client.query<{ table: string; name: string; type: string; validated: boolean; columns: string[] | null }>(
    `SELECT c.relname AS table, k.conname AS name, k.contype::text AS type, k.convalidated AS validated,
            (SELECT array_agg(a.attname::text ORDER BY x.ord) FROM unnest(k.conkey) WITH ORDINALITY AS x(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = x.attnum) AS columns
       FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1`,
    [schema],
  );
  return r.rows.map((x) => ({ table: x.table, name: x.name, type: x.type, validated: x.validated, columns: x.columns ?? [] }));
}

export interface IndexState {
  table: string;
  name: string;
  unique: boolean;
  valid: boolean;
  columns: string[];
}

export async function indexStates(client: pg.ClientBase, schema: string): Promise<IndexState[]> {
  const r = await client.query<{ table: string; name: string; unique: boolean; valid: boolean; columns: string[] | null }>(
    `SELECT t.relname AS table, i.relname AS name, x.indisunique AS unique, x.indisvalid AS valid,
            (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum) AS columns
       FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
       JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE n.nspname = $1`,
    [schema],
  );
  return r.rows.map((x) => ({ table: x.table, name: x.name, unique: x.unique, valid: x.valid, columns: x.columns ?? [] }));
}

function quote(s: string): string {
  return `"${s.replace(/"/g, '""')}"`;
}
