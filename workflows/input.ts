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
  const known = new Set(['source', 'target', 'targetSchema', 'batchSize', 'chunkSize', 'parallelism', 'allowRejects', 'map', 'infer', 'keepStateOnRollback', 'snapshot', 'orphans', 'identifiers']);
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
  return {
    source: raw.source,
    orphans,
    identifiers,
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
