// Shared shapes that cross the workflow/activity boundary. Everything here is
// plain JSON (no bigint, no Buffer): it travels through Temporal's history.
import type { PlanSpeculation } from './plan/speculation';
import type { ExistingConverterSpec } from './existing/converters';
import type { ExistingInfo } from './existing/plan';

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
  /**
   * Copy from a consistent snapshot (SQLite online backup) taken at the start (default).
   * false: read the live file, for huge files whose application is stopped; any write
   * to it during the run then fails the run.
   */
  snapshot?: boolean;
  /** "create" (default) or "existing": load into tables the app's migrations made. */
  schema?: 'create' | 'existing';
  /** existing: empty target tables first (backed up in cutover.backup_*, restored on rollback). */
  truncate?: boolean;
  /** existing: source "table.column" or "table.*" to leave out. */
  ignoreColumns?: string[];
  /** drizzle-kit output folder (as the worker sees it), applied with drizzle-orm's migrator first; implies existing. */
  drizzleMigrations?: string;
  /** Folder of ordered .sql files, one transaction each, applied first; implies existing. */
  sqlMigrations?: string;
  /** Create the tables and constraints, copy no rows. */
  schemaOnly?: boolean;
  /** Role granted USAGE on the schema and SELECT on the migrated tables. */
  grantSelect?: string;
  /** A NUL character in text: "reject" the row (default) or "strip" the NULs. */
  onNul?: 'reject' | 'strip';
  /** Text that is not valid UTF-8: "reject" the row (default) or "replace" bad bytes with U+FFFD. */
  onInvalidUtf8?: 'reject' | 'replace';
  /** With rejects not allowed: succeed anyway when at most this many rows were rejected. */
  maxRejects?: number;
  /** "checksum" (default): counts plus content checksums per chunk; "count": row counts only. */
  validation?: 'count' | 'checksum';
  /** Wait after validation for an `approve` before the cutover steps. */
  requireApproval?: boolean;
  /** Shell command run at cutover (env CUTOVER_RUN_ID, CUTOVER_REPORT_PATH); a failure fails the run. */
  cutoverHook?: string;
  /**
   * The source changed after the snapshot (found at the cutover gate): "ask" (default) waits for
   * the operator's `rerunChanged` or `abort` signal; "rerun" copies the changed tables again from a
   * new snapshot at once; "fail" fails the run (rolled back).
   */
  onSourceChange?: SourceChangePolicy;
  /**
   * Rows whose foreign key points at no parent (PRAGMA foreign_key_check): "fail" (default)
   * stops before anything is copied; "reject" moves them to cutover.rejects; "keep" loads them
   * and leaves the FK NOT VALID.
   */
  orphans?: OrphanPolicy;
  /** Target names: "keep" (default, exactly as in SQLite), "lower", "snake" (snake_case). */
  identifiers?: IdentifierMode;
}

export type OrphanPolicy = 'fail' | 'reject' | 'keep';
export type SourceChangePolicy = 'ask' | 'rerun' | 'fail';
export type IdentifierMode = 'keep' | 'lower' | 'snake';

export type ResolvedInput = Required<
  Omit<MigrationInput, 'map' | 'orphans' | 'identifiers' | 'drizzleMigrations' | 'sqlMigrations' | 'grantSelect' | 'cutoverHook'>
> & {
  map: Record<string, string>;
  orphans: OrphanPolicy;
  identifiers: IdentifierMode;
  drizzleMigrations: string | null;
  sqlMigrations: string | null;
  grantSelect: string | null;
  cutoverHook: string | null;
};

export const inputDefaults = {
  target: 'default',
  targetSchema: 'public',
  batchSize: 50_000,
  chunkSize: 1_000_000,
  parallelism: 2,
  allowRejects: false,
  infer: false,
  keepStateOnRollback: false,
  snapshot: true,
  validation: 'checksum',
  onNul: 'reject',
  onInvalidUtf8: 'reject',
  maxRejects: 0,
  onSourceChange: 'ask',
} as const;

/** How a SQLite value becomes a PostgreSQL value. Serializable: the plan is stored as JSON. */
export type ConverterSpec =
  | { kind: 'integer'; bits: 16 | 32 | 64 }
  | { kind: 'float' }
  /** precision/scale: the target is numeric(p,s); values that would be rounded or overflow are rejected. */
  | { kind: 'numeric'; precision?: number; scale?: number }
  /** maxLength: the target is varchar(n); longer values (in characters) are rejected, never truncated. */
  | { kind: 'text'; maxLength?: number; onNul?: 'strip'; onInvalidUtf8?: 'replace' }
  | { kind: 'bytea' }
  | { kind: 'boolean' }
  | { kind: 'timestamp' }
  | { kind: 'timestamptz' }
  | { kind: 'date' }
  | { kind: 'epoch'; unit: 's' | 'ms' | 'us'; tz: boolean }
  | { kind: 'jsonb'; onNul?: 'strip' }
  | { kind: 'uuid' }
  | ExistingConverterSpec;

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
  /**
   * Key items as PostgreSQL SQL (quoted columns, `lower("c")`, `("a" + "b")`, with DESC), when
   * they are not just `columns` in ascending order. createIndexSql uses them when present.
   */
  keys?: string[];
  /** Why the index differs from the SQLite one (NOCASE → lower(), unknown collations…). */
  notes?: string[];
  /** For a unique index on lower(col): the plain unique index to fall back to if lower() finds duplicates. */
  fallbackKeys?: string[];
}

export interface ForeignKeyPlan {
  name: string;
  columns: string[];
  refTable: string;
  refColumns: string[];
  onDelete: string;
  onUpdate: string;
  deferrable: boolean;
  /** PRAGMA foreign_key_list id (matches PRAGMA foreign_key_check's fkid). */
  sqliteId?: number;
  /** Rows of the source whose key points at no parent (PRAGMA foreign_key_check). */
  orphans?: OrphanInfo;
}

export interface OrphanInfo {
  count: number;
  /** A few examples: "id=7 (customer_id=99)". */
  examples: string[];
  policy: OrphanPolicy;
  /**
   * SQLite predicate over the child table (unqualified columns, table named as in the source)
   * that is true exactly for an orphan row: the copy rejects rows matching it when policy is "reject".
   */
  sqliteWhere: string;
}

export interface CheckPlan {
  name: string;
  sourceSql: string;
  /** Translated expression, or null when not portable (reported, skipped). */
  pgSql: string | null;
  /** Why it was not translated, or notes on the translation. */
  reason?: string;
}

export interface ViewPlan {
  name: string;
  target: string;
  sourceSql: string;
  /** CREATE VIEW statement for the target schema (created with search_path set to it), or null. */
  pgSql: string | null;
  reason: string;
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
  /** Name of the primary key constraint (unique among the schema's relations). */
  pkName?: string;
  /** Names of the UNIQUE constraints, parallel to `uniques`. */
  uniqueNames?: string[];
  /**
   * Rows to reject during the copy (orphans with policy "reject"): SQLite predicates over
   * the table, each with the reason to record. See OrphanInfo.sqliteWhere.
   */
  rejectWhere?: { sqliteWhere: string; reason: string }[];
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
  /** Views to create after the constraints (portable ones); the others are in `skipped`. */
  views?: ViewPlan[];
  identifiers?: 'keep' | 'lower' | 'snake';
  orphans?: OrphanPolicy;
  mode?: 'create' | 'existing';
  schemaOnly?: boolean;
  existing?: ExistingInfo;
  /** Tables planned from a sample, confirmed from the copy's facts (src/plan/speculation.ts). */
  speculation?: PlanSpeculation;
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
  | 'snapshot'
  | 'plan'
  | 'schema'
  | 'copy'
  | 'paused'
  | 'constraints'
  | 'grants'
  | 'sequences'
  | 'validate'
  | 'awaiting approval'
  | 'source changed'
  | 'cutover'
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
  /** The consistent copy every read used (kept as the rollback backup), or null with snapshot off. */
  snapshot: SnapshotFile | null;
}

/** A finished snapshot file: where, its SHA-256 and size, and how it was made. */
export interface SnapshotFile {
  path: string;
  sha256: string;
  bytes: number;
  /** 'file copy' (rollback-journal source) or 'backup API' (WAL, or a source that kept changing). */
  method?: 'file copy' | 'backup API';
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
  /** At the approval gate: the validation report to approve. */
  awaitingApproval?: MigrationReport | null;
  /** At the cutover gate, when the source changed after the snapshot: what changed and what to do. */
  sourceChanged?: SourceChange | null;
}

/** What changed in the source since the snapshot the target was copied from. */
export interface SourceChange {
  /** Tables whose rows differ (each with the first differing key or the row counts). */
  tables: { table: string; detail: string }[];
  /** Set when tables or columns were added, dropped or altered: a rerun cannot fix that. */
  schemaChange: string | null;
  /** The rerun round this change starts (1 = the first rerun). */
  round: number;
  /** What the operator can do now, in words. */
  choice: string;
}
