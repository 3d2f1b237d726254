// Existing-schema plan: the target tables were made by the application's own migrations.
// Source tables/columns are matched to target tables/columns by name, each value is converted
// to the TARGET column's type, and every problem is collected so the run refuses once, before
// anything is copied, with one complete message. Pure apart from the injected probe.
import type { SqliteSchema, SqliteTable } from '../sqlite/introspect';
import { emptyProfile } from '../plan/build-plan';
import { quoteSqliteIdent } from '../sqlite/open';
import { rowidName } from '../sqlite/reader';
import type { ColumnProfile } from '../sqlite/types';
import type { ColumnPlan, ConverterSpec, ForeignKeyPlan, IdentifierMode, KeyPlan, MigrationPlan, OrphanPolicy, SkippedObject, TablePlan } from '../types';
import { transformName } from '../plan/identifiers';
import type { AnyConverterSpec, ArrayElementSpec } from './converters';
import type { TargetColumn, TargetForeignKey, TargetSchema, TargetTable } from './introspect';

export interface ExistingOptions {
  targetSchema: string;
  identifiers: IdentifierMode;
  orphans: OrphanPolicy;
  /** "table.column" (source names) to leave out; "table.*" leaves a whole source table out. */
  ignoreColumns: string[];
  /** Empty the target tables first (else they must be empty). */
  truncate: boolean;
  /** --map: in existing mode only a unit hint for epochs counts, e.g. {"candles.time": "timestamp:ms"}. */
  map: Record<string, string>;
}

/** What the plan needs to know about source values beyond the profile: SQLite queries, injected. */
export interface SourceProbe {
  /** Largest absolute numeric (integer or real) value, or null when there are none. */
  maxAbs(table: string, column: string): number | null;
  /** Text values that are not valid JSON. */
  invalidJson(table: string, column: string): number;
  /** Non-null values that are not JSON arrays. */
  nonArrays(table: string, column: string): number;
  /** Non-null values not among `labels` (compared as text): count and a few examples. */
  notInLabels(table: string, column: string, labels: string[]): { count: number; examples: string[] };
  /** Real values float4 cannot hold exactly. */
  float4Inexact(table: string, column: string): number;
  /** Rows of `table` matching the SQLite predicate: count and example keys. */
  orphans(table: string, where: string): { count: number; examples: string[] };
}

export interface DroppedForeignKey {
  table: string;
  name: string;
  /** pg_get_constraintdef, without a trailing NOT VALID. */
  definition: string;
  /** Was it validated before the run (restore validates it again)? */
  validated: boolean;
  /** Why it is dropped around the load. */
  why: 'cycle' | 'self-reference' | 'orphans keep';
  /** After the load: VALIDATE it, or leave it NOT VALID (orphans "keep"). */
  restore: 'validate' | 'not valid';
}

export interface ExistingInfo {
  truncate: boolean;
  /** Target tables loaded (target names), in load order: parents first. */
  loaded: string[];
  /** Load order: each wave's tables (SOURCE names) only reference tables of earlier waves. */
  waves: string[][];
  droppedForeignKeys: DroppedForeignKey[];
  /** Target tables outside the loaded set whose FKs reference a loaded table (TRUNCATE cannot be used). */
  referencedFromOutside: boolean;
}

export type ExistingPlan = MigrationPlan & { mode: 'existing'; existing: ExistingInfo };

export interface ExistingPlanResult {
  plan: ExistingPlan;
  /** Everything that makes the load impossible: each names table.column and what to do. */
  problems: string[];
  /** Orphan rows under policy "fail" (listed with the problems). */
  orphanProblems: string[];
}

interface Match<T> {
  found: T | null;
  how: 'exact' | 'rule' | 'case' | null;
}

function matchName<T extends { name: string }>(name: string, candidates: T[], mode: IdentifierMode): Match<T> {
  const exact = candidates.find((c) => c.name === name);
  if (exact) return { found: exact, how: 'exact' };
  const ruled = transformName(name, mode === 'keep' ? 'snake' : mode);
  const byRule = candidates.filter((c) => c.name === ruled || c.name === transformName(name, 'lower'));
  if (byRule.length === 1) return { found: byRule[0]!, how: 'rule' };
  const ci = candidates.filter((c) => c.name.toLowerCase() === name.toLowerCase());
  if (ci.length === 1) return { found: ci[0]!, how: 'case' };
  return { found: null, how: null };
}

interface Chosen {
  spec: AnyConverterSpec;
  problems: string[];
  warnings: string[];
}

function count(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}

function unitHint(raw: string | undefined): 's' | 'ms' | 'us' | null {
  const m = raw ? /:\s*(s|ms|us|µs)\s*$/i.exec(raw) : null;
  if (!m) return null;
  const u = m[1]!.toLowerCase();
  return u === 'µs' ? 'us' : (u as 's' | 'ms' | 'us');
}

function nonNumericTexts(p: ColumnProfile): number {
  return p.texts - p.numericTexts;
}

/** Chooses the converter for one source column into one target column, from the TARGET type. */
export function chooseConverter(
  tc: TargetColumn,
  p: ColumnProfile,
  probe: SourceProbe,
  src: { table: string; column: string },
  map: Record<string, string>,
): Chosen {
  const problems: string[] = [];
  const warnings: string[] = [];
  const t = tc.typname;
  const what = `${tc.type}`;
  const fromBlobs = () => {
    if (p.blobs > 0) problems.push(`${count(p.blobs, 'blob value')} cannot become ${what}`);
  };
  if (tc.typtype === 'e') {
    const labels = tc.labels ?? [];
    if (p.reals > 0) problems.push(`${count(p.reals, 'real value')} cannot be labels of enum ${what}`);
    fromBlobs();
    const bad = probe.notInLabels(src.table, src.column, labels);
    if (bad.count > 0) problems.push(`${count(bad.count, 'value')} not labels of enum ${what} (${labels.join(', ')}), e.g. ${bad.examples.join(', ')}: fix them in the source or add the labels (ALTER TYPE … ADD VALUE)`);
    return { spec: { kind: 'enum', type: tc.type, labels }, problems, warnings };
  }
  if (tc.category === 'A' && tc.element) {
    const el = elementSpec(tc.element);
    if (!el) {
      problems.push(`arrays of ${tc.element.typname} are not supported (only arrays of scalars: text, numbers, boolean, uuid, timestamps, enums, json)`);
      return { spec: { kind: 'text' }, problems, warnings };
    }
    const bad = probe.nonArrays(src.table, src.column);
    if (bad > 0) problems.push(`${count(bad, 'value')} not JSON arrays; ${what} is filled from JSON array text like ["a","b"]`);
    return { spec: { kind: 'array', element: el, elementType: tc.type.replace(/\[\]$/, '') }, problems, warnings };
  }
  switch (t) {
    case 'bool': {
      const ints = p.integers > 0 && (BigInt(p.minInteger ?? '0') < 0n || BigInt(p.maxInteger ?? '0') > 1n);
      if (ints) problems.push(`integers from ${p.minInteger} to ${p.maxInteger}: a boolean holds only 0 and 1`);
      const badTexts = p.texts - (p.booleanTexts ?? 0);
      if (badTexts > 0) problems.push(`${count(badTexts, 'text value')} that are not booleans (0/1, t/f, true/false, yes/no)`);
      if (p.reals > 0) {
        const m = probe.maxAbs(src.table, src.column);
        if (p.wholeReals < p.reals || (m !== null && m > 1)) problems.push(`${count(p.reals, 'real value')} that may not be 0 or 1`);
      }
      fromBlobs();
      return { spec: { kind: 'boolean' }, problems, warnings };
    }
    case 'int2':
    case 'int4':
    case 'int8': {
      const bits = t === 'int2' ? 16 : t === 'int4' ? 32 : 64;
      const [lo, hi] = bits === 16 ? [-32768n, 32767n] : bits === 32 ? [-2147483648n, 2147483647n] : [-(2n ** 63n), 2n ** 63n - 1n];
      if (p.integers > 0 && (BigInt(p.minInteger!) < lo || BigInt(p.maxInteger!) > hi)) {
        problems.push(`integers from ${p.minInteger} to ${p.maxInteger} do not fit ${what} (${lo} to ${hi}): widen the column (bigint) in the app's migration`);
      }
      if (p.reals > p.wholeReals) problems.push(`${count(p.reals - p.wholeReals, 'real value')} with a fraction; ${what} would round them (use numeric or double precision)`);
      if (nonNumericTexts(p) > 0) problems.push(`${count(nonNumericTexts(p), 'text value')} that are not numbers`);
      fromBlobs();
      return { spec: { kind: 'integer', bits: bits as 16 | 32 | 64 }, problems, warnings };
    }
    case 'float8':
      if (nonNumericTexts(p) > 0) problems.push(`${count(nonNumericTexts(p), 'text value')} that are not numbers`);
      fromBlobs();
      return { spec: { kind: 'float' }, problems, warnings };
    case 'float4': {
      const inexact = p.reals > 0 ? probe.float4Inexact(src.table, src.column) : 0;
      if (inexact > 0) problems.push(`${count(inexact, 'real value')} that real (float4) cannot hold exactly (they would be rounded): make the column double precision`);
      else warnings.push('real (float4) target: values are checked to fit exactly; anything else is rejected');
      if (nonNumericTexts(p) > 0) problems.push(`${count(nonNumericTexts(p), 'text value')} that are not numbers`);
      fromBlobs();
      return { spec: { kind: 'float4' }, problems, warnings };
    }
    case 'numeric': {
      let spec: ConverterSpec = { kind: 'numeric' };
      if (tc.typmod >= 4) {
        const precision = ((tc.typmod - 4) >> 16) & 0xffff;
        const scale = (tc.typmod - 4) & 0xffff;
        spec = { kind: 'numeric', precision, scale };
        if (p.maxScale > scale) problems.push(`values with ${p.maxScale} digits after the point; ${what} keeps ${scale} (it would round them)`);
        if (p.maxPrecision - p.maxScale > precision - scale) problems.push(`values with ${p.maxPrecision - p.maxScale} digits before the point; ${what} holds ${precision - scale}`);
      }
      if (nonNumericTexts(p) > 0) problems.push(`${count(nonNumericTexts(p), 'text value')} that are not numbers`);
      fromBlobs();
      return { spec, problems, warnings };
    }
    case 'text':
    case 'varchar':
    case 'bpchar':
    case 'name':
    case 'citext': {
      const maxLength = (t === 'varchar' || t === 'bpchar') && tc.typmod >= 4 ? tc.typmod - 4 : undefined;
      if (maxLength !== undefined && p.maxTextLength > maxLength) problems.push(`texts up to ${p.maxTextLength} characters; ${what} holds ${maxLength} (never truncated)`);
      if (t === 'bpchar') warnings.push(`${what} pads with blanks and ignores trailing blanks in comparisons`);
      return { spec: maxLength !== undefined ? { kind: 'text', maxLength } : { kind: 'text' }, problems, warnings };
    }
    case 'bytea':
      return { spec: { kind: 'bytea' }, problems, warnings };
    case 'uuid': {
      const badTexts = p.texts - p.uuidTexts;
      if (badTexts > 0) problems.push(`${count(badTexts, 'text value')} that are not UUIDs`);
      if (p.integers + p.reals > 0) problems.push(`${count(p.integers + p.reals, 'numeric value')} cannot be UUIDs`);
      const badBlobs = p.blobs - (p.uuidBlobs ?? 0);
      if (badBlobs > 0) problems.push(`${count(badBlobs, 'blob')} that are not 16 bytes`);
      return { spec: { kind: 'uuid' }, problems, warnings };
    }
    case 'json':
    case 'jsonb': {
      const bad = p.texts > 0 ? probe.invalidJson(src.table, src.column) : 0;
      if (bad > 0) problems.push(`${count(bad, 'text value')} that are not valid JSON`);
      fromBlobs();
      return { spec: { kind: 'jsonb' }, problems, warnings };
    }
    case 'timestamp':
    case 'timestamptz':
    case 'date': {
      const numeric = p.integers + p.reals;
      const otherTexts = Math.max(0, p.texts - p.isoNaiveTexts - p.isoZonedTexts - p.dateTexts - p.numericTexts);
      fromBlobs();
      if (numeric > 0 || (p.texts > 0 && p.numericTexts === p.texts && p.isoNaiveTexts === 0)) {
        const isoTexts = p.isoNaiveTexts + p.isoZonedTexts + p.dateTexts;
        if (isoTexts > 0) problems.push(`mixes ${count(numeric, 'number')} (epochs) and ${count(isoTexts, 'date/time text')}: make them one kind in the source`);
        if (t === 'date') problems.push('holds epochs; a date column would drop their time of day (make it timestamp)');
        const hint = unitHint(map[`${src.table}.${src.column}`]);
        const m = probe.maxAbs(src.table, src.column);
        let unit: 's' | 'ms' | 'us' = 's';
        if (hint) unit = hint;
        else if (m !== null) {
          if (p.integers === 0 && m < 1e7) {
            // REALs of Julian-day size: SQLite's julianday(); the temporal converter reads those.
            warnings.push('REAL values read as Julian day numbers (SQLite julianday())');
            return { spec: { kind: t }, problems, warnings };
          }
          unit = m < 1e11 ? 's' : m < 1e14 ? 'ms' : 'us';
          if (m < 1e8 && m > 0) warnings.push(`epochs are small (largest ${m}): read as seconds, i.e. before 1973; set the unit with map {"${src.table}.${src.column}": "timestamp:ms"} if wrong`);
        }
        warnings.push(`Unix epoch ${unit === 's' ? 'seconds' : unit === 'ms' ? 'milliseconds' : 'microseconds'} (${hint ? 'from map' : 'from the magnitude of the values'}) → ${what}${t === 'timestamp' ? ' as naive UTC' : ''}`);
        return { spec: { kind: 'epoch', unit, tz: t === 'timestamptz' }, problems, warnings };
      }
      if (t === 'timestamp' && p.isoZonedTexts > 0) problems.push(`${count(p.isoZonedTexts, 'text')} with a time zone; ${what} would drop it (make the column timestamptz, or store naive UTC)`);
      if (otherTexts > 0) problems.push(`${count(otherTexts, 'text value')} that are not ISO dates/times or epochs`);
      if (t === 'timestamptz' && p.isoNaiveTexts > 0) warnings.push('texts without a zone are read as UTC');
      return { spec: { kind: t }, problems, warnings };
    }
    default:
      warnings.push(`no converter for ${what}: values are sent as text and PostgreSQL parses them (refused values become rejects)`);
      return { spec: { kind: 'text' }, problems, warnings };
  }
}

function elementSpec(e: NonNullable<TargetColumn['element']>): ArrayElementSpec | null {
  if (e.typtype === 'e') return { kind: 'enum', type: e.typname, labels: e.labels ?? [] };
  switch (e.typname) {
    case 'text':
    case 'varchar':
    case 'bpchar':
    case 'citext':
      return e.typname === 'varchar' && e.typmod >= 4 ? { kind: 'text', maxLength: e.typmod - 4 } : { kind: 'text' };
    case 'int2':
      return { kind: 'integer', bits: 16 };
    case 'int4':
      return { kind: 'integer', bits: 32 };
    case 'int8':
      return { kind: 'integer', bits: 64 };
    case 'float8':
      return { kind: 'float' };
    case 'float4':
      return { kind: 'float4' };
    case 'numeric':
      return { kind: 'numeric' };
    case 'bool':
      return { kind: 'boolean' };
    case 'uuid':
      return { kind: 'uuid' };
    case 'timestamp':
    case 'timestamptz':
    case 'date':
      return { kind: e.typname };
    case 'json':
      return { kind: 'json' };
    case 'jsonb':
      return { kind: 'jsonb' };
    default:
      return null;
  }
}

function keyFor(t: SqliteTable): KeyPlan | null {
  if (t.withoutRowid) return { kind: 'pk', columns: t.primaryKey };
  const rid = rowidName(t.columns.map((c) => c.name));
  if (rid) return { kind: 'rowid', columns: [rid], ...(t.rowidAlias ? { display: [t.rowidAlias] } : {}) };
  if (t.primaryKey.length) return { kind: 'pk', columns: t.primaryKey };
  return null;
}

/** Strongly connected components (Tarjan) of the FK graph child → parent. */
function sccs(nodes: string[], edges: Map<string, Set<string>>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      for (;;) {
        const w = stack.pop()!;
        on.delete(w);
        comp.push(w);
        if (w === v) break;
      }
      out.push(comp);
    }
  };
  for (const n of nodes) if (!idx.has(n)) visit(n);
  return out;
}

/** Load waves (parents first) over the FKs that stay in place. */
export function loadWaves(nodes: string[], kept: { child: string; parent: string }[]): string[][] {
  const deps = new Map<string, Set<string>>(nodes.map((n) => [n, new Set<string>()]));
  for (const e of kept) if (e.child !== e.parent) deps.get(e.child)?.add(e.parent);
  const waves: string[][] = [];
  const done = new Set<string>();
  while (done.size < nodes.length) {
    const wave = nodes.filter((n) => !done.has(n) && [...deps.get(n)!].every((d) => done.has(d)));
    if (wave.length === 0) throw new Error('internal: FK cycle left in the load order');
    wave.sort();
    for (const n of wave) done.add(n);
    waves.push(wave);
  }
  return waves;
}

export function stripNotValid(def: string): string {
  return def.replace(/\s+NOT VALID\s*$/i, '');
}

export function buildExistingPlan(
  source: string,
  schema: SqliteSchema,
  profiles: Record<string, Record<string, ColumnProfile>>,
  target: TargetSchema,
  nonEmpty: Set<string>,
  probe: SourceProbe,
  opts: ExistingOptions,
): ExistingPlanResult {
  const problems: string[] = [];
  const orphanProblems: string[] = [];
  const warnings: string[] = [];
  const skipped: SkippedObject[] = [...schema.skipped];
  const ignored = new Set(opts.ignoreColumns);
  const usedIgnores = new Set<string>();
  for (const v of schema.views) skipped.push({ kind: 'view', name: v.name, reason: 'existing schema: views belong to the application\'s migrations; not created', sql: v.sql });
  for (const tr of schema.triggers) skipped.push({ kind: 'trigger', name: tr.name, reason: 'existing schema: triggers belong to the application\'s migrations; not created', sql: tr.sql });
  if (!target.exists) problems.push(`target schema "${opts.targetSchema}" does not exist: run the application's migrations first (drizzleMigrations / sqlMigrations), or use schema "create"`);

  const tables: TablePlan[] = [];
  const pairs: { src: SqliteTable; tgt: TargetTable; plan: TablePlan }[] = [];
  const claimed = new Map<string, string>();
  for (const st of schema.tables) {
    if (ignored.has(`${st.name}.*`)) {
      usedIgnores.add(`${st.name}.*`);
      warnings.push(`${st.name}: not loaded (ignoreColumns ${st.name}.*)`);
      continue;
    }
    const m = matchName(st.name, target.tables, opts.identifiers);
    if (!m.found) {
      if (target.exists) problems.push(`${st.name}: no table "${st.name}" in target schema "${opts.targetSchema}" (tables there: ${target.tables.map((t) => t.name).join(', ') || 'none'}): add it in the app's migrations, or leave it out with ignoreColumns "${st.name}.*"`);
      continue;
    }
    const tt = m.found;
    if (claimed.has(tt.name)) {
      problems.push(`${st.name}: matches target table "${tt.name}", which "${claimed.get(tt.name)}" already matches`);
      continue;
    }
    claimed.set(tt.name, st.name);
    const tw: string[] = [];
    if (m.how !== 'exact') tw.push(`loaded into target table "${tt.name}" (matched by ${m.how === 'rule' ? `the identifiers rule` : 'case-insensitive name'})`);
    if (nonEmpty.has(tt.name) && !opts.truncate) problems.push(`${st.name}: target table "${tt.name}" already has rows: loading would mix them with the source's. Empty it, or pass truncate (its rows are kept in the cutover schema and restored on rollback)`);
    const key = keyFor(st);
    if (!key) {
      problems.push(`${st.name}: has columns named rowid, _rowid_ and oid and no primary key: cannot page through it`);
      continue;
    }
    const prof = profiles[st.name] ?? {};
    const columns: ColumnPlan[] = [];
    const matchedTargets = new Set<string>();
    for (const sc of st.columns) {
      if (sc.hidden === 1) continue;
      const where = `${st.name}.${sc.name}`;
      if (ignored.has(where)) {
        usedIgnores.add(where);
        tw.push(`column ${sc.name} not loaded (ignoreColumns)`);
        continue;
      }
      const cm = matchName(sc.name, tt.columns, opts.identifiers);
      if (!cm.found || matchedTargets.has(cm.found.name)) {
        if (sc.hidden === 2 || sc.hidden === 3) {
          tw.push(`generated column ${sc.name} has no target column: not loaded`);
          continue;
        }
        problems.push(`${where}: no column "${sc.name}" in target table "${tt.name}" (columns: ${tt.columns.map((c) => c.name).join(', ')}): add it in the app's migrations, or pass ignoreColumns "${where}" to leave its values behind`);
        continue;
      }
      const tc = cm.found;
      matchedTargets.add(tc.name);
      if (tc.generated === 's') {
        problems.push(`${where}: target column "${tt.name}"."${tc.name}" is GENERATED ALWAYS AS (…) and cannot be written: pass ignoreColumns "${where}" (PostgreSQL computes it)`);
        continue;
      }
      const p = prof[sc.name] ?? emptyProfile(st.rowCount);
      const chosen = chooseConverter(tc, p, probe, { table: st.name, column: sc.name }, opts.map);
      for (const x of chosen.problems) problems.push(`${where} → ${tt.name}.${tc.name} (${tc.type}): ${x}`);
      if (p.nulls > 0 && tc.notNull && tc.defaultSql === null && tc.identity === '') {
        problems.push(`${where} → ${tt.name}.${tc.name}: ${count(p.nulls, 'NULL')} but the target column is NOT NULL: fix the source or relax the column`);
      }
      const cw = [...chosen.warnings];
      if (cm.how !== 'exact') cw.push(`loaded into "${tc.name}" (matched by ${cm.how === 'rule' ? 'the identifiers rule' : 'case-insensitive name'})`);
      columns.push({
        source: sc.name,
        target: tc.name,
        declaredType: sc.declaredType,
        pgType: tc.type,
        // ExistingConverterSpec kinds (enum, float4, array) need the ConverterSpec union extended (see src/existing/converters.ts).
        converter: chosen.spec as ConverterSpec,
        notNull: tc.notNull,
        defaultSql: tc.defaultSql,
        identity: tc.sequence !== null,
        generated: false,
        reason: `existing column ${tt.name}.${tc.name} ${tc.type}`,
        warnings: cw,
        suggestions: [],
      });
    }
    for (const ck of tt.checks ?? []) {
      const e = enumLikeCheck(ck.definition, tt.columns.map((c) => c.name));
      if (!e) continue;
      const col = columns.find((c) => c.target === e.column);
      if (!col) continue;
      const bad = probe.notInLabels(st.name, col.source, e.values);
      if (bad.count > 0) {
        problems.push(`${st.name}.${col.source} → ${tt.name}.${e.column}: ${count(bad.count, 'value')} outside CHECK ${ck.name} (${e.values.join(', ')}), e.g. ${bad.examples.join(', ')}: PostgreSQL would refuse those rows. Fix them in the source, or change the CHECK in the app's migration`);
      }
    }
    for (const tc of tt.columns) {
      if (matchedTargets.has(tc.name)) continue;
      if (tc.notNull && tc.defaultSql === null && tc.identity === '' && tc.generated === '') {
        problems.push(`${tt.name}.${tc.name}: target column is NOT NULL without a default and no source column of "${st.name}" matches it: add a DEFAULT in the app's migration, or a column "${tc.name}" to the source`);
      } else tw.push(`target column ${tc.name} has no source column: it gets ${tc.defaultSql ? `its default (${tc.defaultSql})` : tc.identity ? 'identity values' : 'NULL'}`);
    }
    const plan: TablePlan = {
      source: st.name,
      target: tt.name,
      withoutRowid: st.withoutRowid,
      strict: st.strict,
      key,
      columns,
      primaryKey: st.primaryKey.length ? st.primaryKey : null,
      uniques: [],
      indexes: [],
      foreignKeys: [],
      checks: [],
      rowCount: st.rowCount,
      sqliteSequence: st.sqliteSequence === null ? null : st.sqliteSequence.toString(),
      warnings: tw,
    };
    tables.push(plan);
    pairs.push({ src: st, tgt: tt, plan });
  }
  for (const i of ignored) if (!usedIgnores.has(i)) problems.push(`ignoreColumns "${i}": no such source table/column (use source names: table.column or table.*)`);

  // Foreign keys among the loaded tables: load order, cycles, orphans.
  const loaded = new Map(pairs.map((x) => [x.tgt.name, x]));
  const internal: { fk: TargetForeignKey; child: string; parent: string }[] = [];
  let referencedFromOutside = false;
  for (const t of target.tables) {
    for (const fk of t.foreignKeys) {
      if (fk.refSchema !== opts.targetSchema || !loaded.has(fk.refTable)) continue;
      if (loaded.has(t.name)) internal.push({ fk, child: t.name, parent: fk.refTable });
      else referencedFromOutside = true;
    }
  }
  if (target.inboundForeignKeys.some((f) => loaded.has(f.refTable))) referencedFromOutside = true;
  for (const x of pairs) {
    for (const fk of x.tgt.foreignKeys) {
      if (fk.refSchema === opts.targetSchema && loaded.has(fk.refTable)) continue;
      x.plan.warnings.push(`foreign key ${fk.name} references ${fk.refSchema}.${fk.refTable}, which this run does not load: rows without a parent there are refused by PostgreSQL (rejects)`);
    }
  }
  const edges = new Map<string, Set<string>>();
  for (const e of internal) {
    if (!edges.has(e.child)) edges.set(e.child, new Set());
    edges.get(e.child)!.add(e.parent);
  }
  const comp = new Map<string, number>();
  sccs([...loaded.keys()], edges).forEach((c, i) => c.forEach((n) => comp.set(n, i)));
  const dropped: DroppedForeignKey[] = [];
  const kept: { child: string; parent: string }[] = [];
  for (const e of internal) {
    const child = loaded.get(e.child)!;
    const parent = loaded.get(e.parent)!;
    // Orphans, evaluated on the source with the matched columns.
    const childCols = e.fk.columns.map((c) => child.plan.columns.find((x) => x.target === c)?.source);
    const parentCols = e.fk.refColumns.map((c) => parent.plan.columns.find((x) => x.target === c)?.source);
    let orphanPolicy: OrphanPolicy | null = null;
    if (childCols.every(Boolean) && parentCols.every(Boolean)) {
      const c = quoteSqliteIdent(child.src.name);
      const notNull = childCols.map((col) => `${c}.${quoteSqliteIdent(col!)} IS NOT NULL`).join(' AND ');
      const match = childCols.map((col, i) => `cutover_parent.${quoteSqliteIdent(parentCols[i]!)} = ${c}.${quoteSqliteIdent(col!)}`).join(' AND ');
      const where = `(${notNull} AND NOT EXISTS (SELECT 1 FROM ${quoteSqliteIdent(parent.src.name)} AS cutover_parent WHERE ${match}))`;
      const o = probe.orphans(child.src.name, where);
      if (o.count > 0) {
        const label = `${e.fk.name} ${e.child}(${e.fk.columns.join(', ')}) → ${e.parent}(${e.fk.refColumns.join(', ')})`;
        orphanPolicy = opts.orphans;
        const fkPlan: ForeignKeyPlan = {
          name: e.fk.name,
          columns: childCols as string[],
          refTable: parent.src.name,
          refColumns: parentCols as string[],
          onDelete: '',
          onUpdate: '',
          deferrable: false,
          orphans: { count: o.count, examples: o.examples, policy: opts.orphans, sqliteWhere: where },
        };
        if (opts.orphans === 'fail') {
          orphanProblems.push(`${child.src.name}: ${count(o.count, 'row')} violate the target's foreign key ${label}, e.g. ${o.examples.join('; ')}`);
        } else if (opts.orphans === 'reject') {
          (child.plan.rejectWhere ??= []).push({ sqliteWhere: where, reason: `orphan: foreign key ${e.fk.name} has no parent row` });
          child.plan.foreignKeys.push(fkPlan);
          child.plan.warnings.push(`${count(o.count, 'orphan row')} for foreign key ${e.fk.name} go to cutover.rejects (orphans "reject"), e.g. ${o.examples.join('; ')}`);
        } else {
          child.plan.foreignKeys.push(fkPlan);
          child.plan.warnings.push(`${count(o.count, 'orphan row')} for foreign key ${e.fk.name} are loaded; the foreign key is dropped for the load and restored NOT VALID (orphans "keep"), e.g. ${o.examples.join('; ')}`);
        }
      }
    }
    const selfRef = e.child === e.parent;
    const cyclic = !selfRef && comp.get(e.child) === comp.get(e.parent);
    if (orphanPolicy === 'keep' || selfRef || cyclic) {
      dropped.push({
        table: e.child,
        name: e.fk.name,
        definition: stripNotValid(e.fk.definition),
        validated: e.fk.validated,
        why: orphanPolicy === 'keep' ? 'orphans keep' : selfRef ? 'self-reference' : 'cycle',
        restore: orphanPolicy === 'keep' || !e.fk.validated ? 'not valid' : 'validate',
      });
    } else kept.push({ child: e.child, parent: e.parent });
  }
  const wavesTarget = loadWaves([...loaded.keys()], kept);
  const waves = wavesTarget.map((w) => w.map((n) => loaded.get(n)!.src.name));
  if (dropped.length) warnings.push(`foreign key(s) dropped around the load and restored after it (NOT VALID, then validated): ${dropped.map((d) => `${d.table}.${d.name} (${d.why})`).join(', ')}`);
  if (opts.truncate && nonEmpty.size > 0) warnings.push(`truncate: ${[...nonEmpty].filter((n) => loaded.has(n)).join(', ')} will be emptied first; their rows are kept in the cutover schema until the run succeeds or is rolled back (then restored)`);

  const plan: ExistingPlan = {
    source,
    targetSchema: opts.targetSchema,
    tables,
    skipped,
    warnings,
    views: [],
    identifiers: opts.identifiers,
    orphans: opts.orphans,
    mode: 'existing',
    existing: {
      truncate: opts.truncate,
      loaded: wavesTarget.flat(),
      waves,
      droppedForeignKeys: dropped,
      referencedFromOutside,
    },
  };
  return { plan, problems, orphanProblems };
}

/**
 * An enum-like CHECK (`col IN ('a', 'b')`, printed by PostgreSQL as `((col)::text = ANY ((ARRAY['a'::character
 * varying, …])::text[]))`): the one column it constrains and the allowed values, or null for any other CHECK.
 */
export function enumLikeCheck(def: string, columns: string[]): { column: string; values: string[] } | null {
  if (!/=\s*ANY\s*\(/i.test(def) || !/ARRAY\[/i.test(def) || /\b(AND|OR|NOT)\b/i.test(def.replace(/'(?:[^']|'')*'/g, "''"))) return null;
  const values = [...def.matchAll(/'((?:[^']|'')*)'/g)].map((m) => m[1]!.replace(/''/g, "'"));
  const rest = def.replace(/'(?:[^']|'')*'/g, ' ').replace(/::[a-z ]+(\[\])?(\(\d+\))?/gi, ' ');
  const idents = new Set<string>();
  for (const m of rest.matchAll(/"((?:[^"]|"")+)"|\b([a-z_][a-z0-9_$]*)\b/gi)) {
    const id = m[1] !== undefined ? m[1].replace(/""/g, '"') : m[2]!;
    if (/^(check|any|array)$/i.test(id)) continue;
    idents.add(id);
  }
  if (idents.size !== 1 || values.length === 0) return null;
  const column = [...idents][0]!;
  return columns.includes(column) ? { column, values } : null;
}

/** The one refusal message: every problem, numbered, and what to do. */
export function mismatchMessage(problems: string[], orphanProblems: string[], schema: string): string {
  const all = [...problems, ...orphanProblems];
  return (
    `the source does not fit the existing schema "${schema}" (${count(all.length, 'problem')}); nothing was copied: ` +
    all.map((p, i) => `(${i + 1}) ${p}`).join(' ') +
    (orphanProblems.length ? ' — for orphan rows: fix them in the source, or start a new run with orphans "reject" (to cutover.rejects) or "keep" (loaded, foreign key left NOT VALID).' : '')
  );
}

