// Shared shapes that cross the workflow/activity boundary. Everything here is
// plain JSON (no bigint, no Buffer): it travels through Temporal's history.

/** What ops type into the Temporal UI's "Start Workflow" form. Only `source` is required. */
export interface MigrationInput {
  /** Path of the SQLite file, as the worker sees it. */
  source: string;
  /** Connection *name*, resolved by the worker from its environment. Never a URL. */
  target?: string;
  targetSchema?: string;
  /** Rows per COPY batch (one transaction with its checkpoint). */
  batchSize?: number;
  /** Rows per chunk (one activity). */
  chunkSize?: number;
  /** Chunks copied at once. */
  parallelism?: number;
  allowRejects?: boolean;
  /** Per-column type overrides: { "table.column": "type[:unit]" }. */
  map?: Record<string, string>;
  /** Apply the profile's suggestions (booleans, epochs, jsonb, uuid). */
  infer?: boolean;
  /** Keep the `cutover` state rows after a rollback (audit). */
  keepStateOnRollback?: boolean;
}

export type ResolvedInput = Required<Omit<MigrationInput, 'map'>> & { map: Record<string, string> };

export const inputDefaults = {
  target: 'default',
  targetSchema: 'public',
  batchSize: 10_000,
  chunkSize: 250_000,
  parallelism: 2,
  allowRejects: false,
  infer: false,
  keepStateOnRollback: false,
} as const;

/** How a SQLite value becomes a PostgreSQL value. Serializable: the plan is stored as JSON. */
export type ConverterSpec =
  | { kind: 'integer'; bits: 16 | 32 | 64 }
  | { kind: 'float' }
  /** precision/scale: the target is numeric(p,s); values that would be rounded or overflow are rejected. */
  | { kind: 'numeric'; precision?: number; scale?: number }
  /** maxLength: the target is varchar(n); longer values (in characters) are rejected, never truncated. */
  | { kind: 'text'; maxLength?: number }
  | { kind: 'bytea' }
  | { kind: 'boolean' }
  | { kind: 'timestamp' }
  | { kind: 'timestamptz' }
  | { kind: 'date' }
  | { kind: 'epoch'; unit: 's' | 'ms' | 'us'; tz: boolean }
  | { kind: 'jsonb' }
  | { kind: 'uuid' };

export interface ColumnPlan {
  /** Name in SQLite. */
  source: string;
  /** Name in PostgreSQL (may differ only through truncation/identifier rules). */
  target: string;
  declaredType: string;
  pgType: string;
  converter: ConverterSpec;
  notNull: boolean;
  /** Translated DEFAULT expression (PostgreSQL SQL), or null. */
  defaultSql: string | null;
  /** INTEGER PRIMARY KEY / AUTOINCREMENT: becomes an identity column. */
  identity: boolean;
  /** Generated columns are not copied; PostgreSQL computes them. */
  generated: boolean;
  reason: string;
  warnings: string[];
  suggestions: string[];
}

export interface IndexPlan {
  name: string;
  targetName: string;
  unique: boolean;
  columns: string[];
  /** Partial index predicate, translated, or null. */
  whereSql: string | null;
  /** Original SQLite SQL, for the report when it cannot be translated. */
  sql: string | null;
}

export interface ForeignKeyPlan {
  name: string;
  columns: string[];
  refTable: string;
  refColumns: string[];
  onDelete: string;
  onUpdate: string;
  deferrable: boolean;
}

export interface CheckPlan {
  name: string;
  sourceSql: string;
  /** Translated expression, or null when not portable (reported, skipped). */
  pgSql: string | null;
}

/**
 * Key used for keyset pagination: `rowid` for rowid tables, the primary key
 * tuple for WITHOUT ROWID tables.
 */
export interface KeyPlan {
  kind: 'rowid' | 'pk';
  columns: string[];
  /** Names to show in messages and rejects (the INTEGER PRIMARY KEY rather than "rowid"). */
  display?: string[];
}

/** A key value as stored in checkpoints: tagged so 64-bit integers and bytes survive JSON. */
export type KeyValue =
  | { t: 'i'; v: string }
  | { t: 'r'; v: number | string }
  | { t: 's'; v: string }
  | { t: 'b'; v: string }
  | { t: 'n' };

export type KeyTuple = KeyValue[];

export interface ChunkPlan {
  table: string;
  chunkNo: number;
  /** Exclusive lower bound; null = from the start. */
  lo: KeyTuple | null;
  /** Inclusive upper bound; null = to the end. */
  hi: KeyTuple | null;
  estimatedRows: number;
}

export interface TablePlan {
  source: string;
  target: string;
  withoutRowid: boolean;
  strict: boolean;
  key: KeyPlan;
  columns: ColumnPlan[];
  primaryKey: string[] | null;
  uniques: string[][];
  indexes: IndexPlan[];
  foreignKeys: ForeignKeyPlan[];
  checks: CheckPlan[];
  rowCount: number;
  /** sqlite_sequence value (AUTOINCREMENT), as a decimal string. */
  sqliteSequence: string | null;
  warnings: string[];
}

export interface SkippedObject {
  kind: 'table' | 'view' | 'trigger' | 'index';
  name: string;
  reason: string;
  sql: string | null;
}

export interface MigrationPlan {
  source: string;
  targetSchema: string;
  tables: TablePlan[];
  skipped: SkippedObject[];
  warnings: string[];
}

/** What the workflow keeps of the plan: small, whatever the table count. */
export interface PlanSummary {
  tables: { name: string; rows: number; chunks: ChunkPlan[] }[];
  skipped: SkippedObject[];
  warnings: string[];
}

export interface ChunkResult {
  table: string;
  chunkNo: number;
  rows: number;
  rejects: number;
  batches: number;
  /** Rows of this chunk that a previous attempt had already committed. */
  resumedRows: number;
  seconds: number;
}

export interface TableReport {
  table: string;
  sourceRows: number;
  targetRows: number;
  rejectedRows: number;
  seconds: number;
  ok: boolean;
  problems: string[];
}

export type Phase =
  | 'starting'
  | 'preflight'
  | 'plan'
  | 'schema'
  | 'copy'
  | 'constraints'
  | 'sequences'
  | 'validate'
  | 'done'
  | 'rolling back'
  | 'rolled back'
  | 'failed';

export interface MigrationReport {
  runId: string;
  source: string;
  target: string;
  targetSchema: string;
  status: 'succeeded' | 'validation failed';
  tables: TableReport[];
  phases: { phase: Phase; seconds: number }[];
  totals: { tables: number; rows: number; rejects: number; seconds: number };
  skipped: SkippedObject[];
  warnings: string[];
}

export interface TableProgress {
  table: string;
  rowsTotal: number;
  rowsDone: number;
  rejects: number;
  chunksTotal: number;
  chunksDone: number;
}

export interface Progress {
  runId: string;
  phase: Phase;
  tables: TableProgress[];
  startedAt: number;
  rowsPerSecond: number;
  etaSeconds: number | null;
  error: string | null;
}
