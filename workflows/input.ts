// Validates and fills in workflow input. Runs inside the workflow, so a bad
// input fails the run at once with a message, instead of stalling a task.
import { ApplicationFailure } from '@temporalio/workflow';
import { inputDefaults, type MigrationInput, type ResolvedInput } from '../src/types';

function bad(message: string): never {
  throw ApplicationFailure.create({ type: 'BadInput', nonRetryable: true, message: `bad workflow input: ${message}` });
}

function positiveInt(name: string, value: unknown, fallback: number, max: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    bad(`"${name}" must be a whole number from 1 to ${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

export function resolveInput(raw: MigrationInput | undefined): ResolvedInput {
  if (!raw || typeof raw !== 'object') bad('expected a JSON object like {"source": "/data/app.db", "target": "default"}');
  const known = new Set(['source', 'target', 'targetSchema', 'batchSize', 'chunkSize', 'parallelism', 'allowRejects', 'map', 'infer', 'keepStateOnRollback', 'snapshot', 'orphans', 'identifiers',
    'schema', 'truncate', 'ignoreColumns', 'drizzleMigrations', 'sqlMigrations', 'schemaOnly', 'grantSelect', 'requireApproval', 'cutoverHook', 'validation', 'onNul', 'onInvalidUtf8', 'maxRejects', 'onSourceChange']);
  const unknown = Object.keys(raw).filter((k) => !known.has(k));
  if (unknown.length) bad(`unknown field(s) ${unknown.map((k) => `"${k}"`).join(', ')}; known fields: ${[...known].join(', ')}`);
  if (typeof raw.source !== 'string' || raw.source.trim() === '') bad('"source" (path of the SQLite file on the worker) is required');
  const target = raw.target ?? inputDefaults.target;
  if (typeof target !== 'string' || target === '') bad('"target" must be a connection name such as "default"');
  if (/^postgres(ql)?:\/\//i.test(target) || target.includes('@')) {
    bad('"target" must be a connection name (e.g. "default"), not a URL: workflow input is stored in plain text. Configure CUTOVER_TARGET_URL_<NAME> on the worker and pass <name>.');
  }
  const targetSchema = raw.targetSchema ?? inputDefaults.targetSchema;
  if (typeof targetSchema !== 'string' || targetSchema === '' || targetSchema === 'cutover' || targetSchema.startsWith('pg_')) {
    bad(`"targetSchema" must be a schema name other than "cutover" (our state) and pg_*, got ${JSON.stringify(targetSchema)}`);
  }
  const map = raw.map ?? {};
  if (typeof map !== 'object' || Array.isArray(map) || Object.values(map).some((v) => typeof v !== 'string')) {
    bad('"map" must be an object like {"table.column": "timestamp:ms"}');
  }
  const bool = (name: keyof MigrationInput, fallback: boolean): boolean => {
    const v = raw[name];
    if (v === undefined) return fallback;
    if (typeof v !== 'boolean') bad(`"${name}" must be true or false`);
    return v as boolean;
  };
  const orphans = raw.orphans ?? 'fail';
  if (!['fail', 'reject', 'keep'].includes(orphans)) bad('"orphans" must be "fail" (stop before copying), "reject" (orphan rows go to cutover.rejects) or "keep" (load them, FK left NOT VALID)');
  const identifiers = raw.identifiers ?? 'keep';
  if (!['keep', 'lower', 'snake'].includes(identifiers)) bad('"identifiers" must be "keep", "lower" or "snake"');
  const optionalText = (name: 'drizzleMigrations' | 'sqlMigrations' | 'grantSelect' | 'cutoverHook'): string | null => {
    const v = raw[name];
    if (v === undefined || v === null) return null;
    if (typeof v !== 'string' || v.trim() === '') bad(`"${name}" must be a non-empty string`);
    return v as string;
  };
  const drizzleMigrations = optionalText('drizzleMigrations');
  const sqlMigrations = optionalText('sqlMigrations');
  const schemaMode = drizzleMigrations || sqlMigrations ? 'existing' : (raw.schema ?? 'create');
  if (schemaMode !== 'create' && schemaMode !== 'existing') bad('"schema" must be "create" (make the tables) or "existing" (load into tables that exist)');
  const ignoreColumns = raw.ignoreColumns ?? [];
  if (!Array.isArray(ignoreColumns) || ignoreColumns.some((c) => typeof c !== 'string' || !/^[^.]+\..+$/.test(c))) {
    bad('"ignoreColumns" must be a list like ["table.column", "table.*"]');
  }
  const schemaOnly = bool('schemaOnly', false);
  const truncate = bool('truncate', false);
  if (schemaOnly && (schemaMode === 'existing' || truncate)) bad('"schemaOnly" creates the schema: it cannot be combined with an existing schema, migrations or truncate');
  const validation = raw.validation ?? inputDefaults.validation;
  if (validation !== 'count' && validation !== 'checksum') bad('"validation" must be "count" (row counts only) or "checksum" (counts plus content checksums per chunk, the default)');
  const onNul = raw.onNul ?? inputDefaults.onNul;
  if (onNul !== 'reject' && onNul !== 'strip') bad('"onNul" must be "reject" (the row goes to cutover.rejects) or "strip" (NUL characters are removed)');
  const onInvalidUtf8 = raw.onInvalidUtf8 ?? inputDefaults.onInvalidUtf8;
  if (onInvalidUtf8 !== 'reject' && onInvalidUtf8 !== 'replace') bad('"onInvalidUtf8" must be "reject" or "replace" (bad bytes become U+FFFD)');
  const maxRejects = raw.maxRejects ?? inputDefaults.maxRejects;
  if (typeof maxRejects !== 'number' || !Number.isInteger(maxRejects) || maxRejects < 0) bad('"maxRejects" must be a whole number ≥ 0');
  const onSourceChange = raw.onSourceChange ?? inputDefaults.onSourceChange;
  if (!['ask', 'rerun', 'fail'].includes(onSourceChange)) {
    bad('"onSourceChange" must be "ask" (wait for the rerunChanged or abort signal), "rerun" (copy the changed tables again at once) or "fail" (roll back)');
  }
  return {
    source: raw.source,
    onSourceChange,
    validation,
    onNul,
    onInvalidUtf8,
    maxRejects,
    orphans,
    identifiers,
    schema: schemaMode,
    truncate,
    ignoreColumns,
    drizzleMigrations,
    sqlMigrations,
    schemaOnly,
    grantSelect: optionalText('grantSelect'),
    requireApproval: bool('requireApproval', false),
    cutoverHook: optionalText('cutoverHook'),
    target,
    targetSchema,
    batchSize: positiveInt('batchSize', raw.batchSize, inputDefaults.batchSize, 1_000_000),
    chunkSize: positiveInt('chunkSize', raw.chunkSize, inputDefaults.chunkSize, 1_000_000_000),
    parallelism: positiveInt('parallelism', raw.parallelism, inputDefaults.parallelism, 64),
    allowRejects: bool('allowRejects', inputDefaults.allowRejects),
    infer: bool('infer', inputDefaults.infer),
    keepStateOnRollback: bool('keepStateOnRollback', inputDefaults.keepStateOnRollback),
    snapshot: bool('snapshot', inputDefaults.snapshot),
    map,
  };
}
