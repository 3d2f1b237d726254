// Catalog look-ups shared by the schema and constraint steps.
import type pg from 'pg';

export async function relationExists(client: pg.ClientBase, schema: string, name: string): Promise<boolean> {
  const r = await client.query(
    `SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2`,
    [schema, name],
  );
  return (r.rowCount ?? 0) > 0;
}

export async function constraintExists(client: pg.ClientBase, schema: string, table: string, name: string): Promise<boolean> {
  const r = await client.query(
    `SELECT 1 FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2 AND k.conname = $3`,
    [schema, table, name],
  );
  return (r.rowCount ?? 0) > 0;
}

