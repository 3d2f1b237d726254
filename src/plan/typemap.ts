// Type mapping: declared SQLite type + value profile → PostgreSQL type and converter.
//
// Rules, in order: an override (--map) wins; an INTEGER PRIMARY KEY rowid alias is bigint;
// otherwise SQLite's affinity of the declared name, refined by well-known names (BOOLEAN,
// DATETIME, DECIMAL(p,s), JSON, UUID, VARCHAR(n)) and always checked against the values the
// profile saw: a column whose values the chosen type cannot hold exactly gets a type that
// holds every value (usually text), with a warning naming the counts. Suggestions (boolean,
// epoch timestamps, jsonb, uuid) are listed, and applied only with infer (--infer).
import type { ColumnPlan, ConverterSpec } from '../types';
import type { ColumnProfile, SqliteColumn } from '../sqlite/types';
import { parseDeclaredType, type DeclaredType } from './affinity';
import { parseDecimal } from './decimal';
import { parseDateTimeText } from './timestamps';
import { booleanWord, canonicalUuid, makeEncoder } from './convert';

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
  /** The table is STRICT (its declared types are enforced; ANY means "no affinity"). */
  strict?: boolean;
}

export type MappedColumn = Pick<ColumnPlan, 'pgType' | 'converter' | 'reason' | 'warnings' | 'suggestions'>;

interface Choice {
  pgType: string;
  converter: ConverterSpec;
  reason: string;
  warnings: string[];
}

interface Suggestion {
  pgType: string;
  converter: ConverterSpec;
  /** The --map value that applies it. */
  map: string;
  why: string;
}

interface Ctx {
  table: string;
  col: string;
  decl: DeclaredType;
  /** "declared VARCHAR(20)" / "no declared type" */
  declText: string;
  p: ColumnProfile;
  nonNull: number;
  minI: bigint | null;
  maxI: bigint | null;
}

const TWO53 = 2n ** 53n;
const INT_RANGES: Record<16 | 32 | 64, [bigint, bigint]> = {
  16: [-32768n, 32767n],
  32: [-2147483648n, 2147483647n],
  64: [-9223372036854775808n, 9223372036854775807n],
};
const INT_NAMES: Record<16 | 32 | 64, string> = { 16: 'smallint', 32: 'integer', 64: 'bigint' };

function plural(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}

/** "12 integer, 3 text values" — the storage classes present. */
function classCounts(p: ColumnProfile): string {
  const parts: string[] = [];
  if (p.integers) parts.push(`${p.integers} integer`);
  if (p.reals) parts.push(`${p.reals} real`);
  if (p.texts) parts.push(`${p.texts} text`);
  if (p.blobs) parts.push(`${p.blobs} blob`);
  if (parts.length === 0) return 'no values';
  return parts.join(', ') + (p.integers + p.reals + p.texts + p.blobs === 1 ? ' value' : ' values');
}

function intsWithin(ctx: Ctx, lo: bigint, hi: bigint): boolean {
  return ctx.minI === null || ctx.maxI === null || (ctx.minI >= lo && ctx.maxI <= hi);
}

function only(p: ColumnProfile, ...classes: ('integers' | 'reals' | 'texts' | 'blobs')[]): boolean {
  for (const k of ['integers', 'reals', 'texts', 'blobs'] as const) {
    if (!classes.includes(k) && p[k] > 0) return false;
  }
  return true;
}

const BIGINT: Choice['converter'] = { kind: 'integer', bits: 64 };

// ---------------------------------------------------------------------------------------------
// Mapping by values (no type, BLOB, ANY, generic NUMERIC names, and every fallback)

function byValues(ctx: Ctx, lead: string, warn: boolean): Choice {
  const { p } = ctx;
  const declaredBlob = ctx.decl.name.includes('BLOB');
  const w = (msg: string) => (warn ? [msg] : []);
  if (ctx.nonNull === 0) {
    if (declaredBlob) return { pgType: 'bytea', converter: { kind: 'bytea' }, reason: `${lead}; no values → bytea`, warnings: [] };
    return { pgType: 'text', converter: { kind: 'text' }, reason: `${lead}; no values → text`, warnings: [] };
  }
  if (only(p, 'blobs')) {
    return { pgType: 'bytea', converter: { kind: 'bytea' }, reason: `${lead}; every value is a blob → bytea`, warnings: w(`${ctx.declText} holds ${classCounts(p)}: bytea`) };
  }
  if (only(p, 'integers')) {
    return { pgType: 'bigint', converter: BIGINT, reason: `${lead}; every value is an integer → bigint`, warnings: w(`${ctx.declText} holds ${classCounts(p)}: bigint keeps them exactly`) };
  }
  if (only(p, 'integers', 'reals')) return numbersChoice(ctx, lead, warn);
  if (only(p, 'texts')) {
    return { pgType: 'text', converter: { kind: 'text' }, reason: `${lead}; every value is text → text`, warnings: w(`${ctx.declText} holds ${classCounts(p)}: kept as text`) };
  }
  if (only(p, 'texts', 'blobs')) {
    if (declaredBlob) {
      return {
        pgType: 'bytea',
        converter: { kind: 'bytea' },
        reason: `${lead}; blobs and texts → bytea (texts kept as their UTF-8 bytes)`,
        warnings: [`${ctx.declText} holds ${classCounts(p)}: the ${plural(p.texts, 'text value')} are stored as their UTF-8 bytes`],
      };
    }
    return {
      pgType: 'text',
      converter: { kind: 'text' },
      reason: `${lead}; texts and blobs → text`,
      warnings: [
        `${ctx.declText} holds ${classCounts(p)}: mapped to text; blobs are decoded as UTF-8 and any that are not valid UTF-8 are rejected (use --map ${ctx.table}.${ctx.col}=bytea to keep bytes)`,
      ],
    };
  }
  // Numbers mixed with text and/or blobs: only text holds them all.
  const extra = p.blobs ? '; blobs are decoded as UTF-8 (invalid ones rejected)' : '';
  return {
    pgType: 'text',
    converter: { kind: 'text' },
    reason: `${lead}; mixed storage classes → text`,
    warnings: [`${ctx.declText} holds ${classCounts(p)}: mapped to text so every value is kept (numbers as their SQLite text form${extra})`],
  };
}

/** Integers and/or reals only: double precision when every integer is exact as a double, else numeric. */
function numbersChoice(ctx: Ctx, lead: string, warn: boolean): Choice {
  const { p } = ctx;
  const w = (msg: string) => (warn ? [msg] : []);
  if (p.integers === 0) {
    return { pgType: 'double precision', converter: { kind: 'float' }, reason: `${lead}; reals → double precision (lossless; float4 would round)`, warnings: w(`${ctx.declText} holds ${classCounts(p)}: double precision`) };
  }
  if (intsWithin(ctx, -TWO53, TWO53)) {
    return {
      pgType: 'double precision',
      converter: { kind: 'float' },
      reason: `${lead}; integers and reals → double precision (every integer is exact as a double)`,
      warnings: w(`${ctx.declText} holds ${classCounts(p)}: double precision holds all of them exactly`),
    };
  }
  return {
    pgType: 'numeric',
    converter: { kind: 'numeric' },
    reason: `${lead}; integers beyond 2^53 and reals → numeric (reals as their shortest exact decimal)`,
    warnings: w(`${ctx.declText} holds ${classCounts(p)}: numeric, because some integers are not exact as doubles`),
  };
}

// ---------------------------------------------------------------------------------------------
// Declared-type rules

function integerWidth(decl: DeclaredType): 16 | 32 | 64 {
  const words = decl.name.split(' ').filter((x) => x !== 'UNSIGNED' && x !== 'SIGNED');
  const first = words[0] ?? '';
  if (first === 'SMALLINT' || first === 'INT2' || first === 'TINYINT') return 16;
  if (first === 'INT' || first === 'INT4' || first === 'MEDIUMINT') return 32;
  return 64;
}

function mapInteger(ctx: Ctx): Choice {
  const { p } = ctx;
  if (only(p, 'integers')) {
    const bits = integerWidth(ctx.decl);
    if (bits < 64) {
      const [lo, hi] = INT_RANGES[bits];
      if (intsWithin(ctx, lo, hi)) {
        return { pgType: INT_NAMES[bits], converter: { kind: 'integer', bits }, reason: `${ctx.declText} → ${INT_NAMES[bits]} (every value fits)`, warnings: [] };
      }
      return {
        pgType: 'bigint',
        converter: BIGINT,
        reason: `${ctx.declText} → bigint: values ${ctx.minI}..${ctx.maxI} exceed ${INT_NAMES[bits]} (SQLite integers are 64-bit)`,
        warnings: [],
      };
    }
    return { pgType: 'bigint', converter: BIGINT, reason: `${ctx.declText} → bigint (SQLite integers are 64-bit)`, warnings: [] };
  }
  return byValues(ctx, `${ctx.declText} (INTEGER affinity) but holds ${classCounts(p)}`, true);
}

function mapText(ctx: Ctx): Choice {
  const { p, decl } = ctx;
  if (!only(p, 'texts')) return byValues(ctx, `${ctx.declText} (TEXT affinity) but holds ${classCounts(p)}`, true);
  const n = decl.params[0];
  if (decl.name.includes('CHAR') && n !== undefined && n >= 1 && n <= 10485760) {
    if (p.maxTextLength <= n) {
      return {
        pgType: `varchar(${n})`,
        converter: { kind: 'text', maxLength: n },
        reason: `${ctx.declText} → varchar(${n}) (${p.texts ? `longest value: ${p.maxTextLength} characters` : 'no values'})`,
        warnings: [],
      };
    }
    return {
      pgType: 'text',
      converter: { kind: 'text' },
      reason: `${ctx.declText} → text: values up to ${p.maxTextLength} characters exceed the declared length ${n} (SQLite does not enforce it)`,
      warnings: [`values up to ${p.maxTextLength} characters exceed the declared length ${n}: mapped to text, not varchar(${n})`],
    };
  }
  return { pgType: 'text', converter: { kind: 'text' }, reason: `${ctx.declText} → text`, warnings: [] };
}

function mapReal(ctx: Ctx): Choice {
  const { p } = ctx;
  if (only(p, 'reals')) {
    return { pgType: 'double precision', converter: { kind: 'float' }, reason: `${ctx.declText} → double precision (lossless; float4 would round)`, warnings: [] };
  }
  if (only(p, 'integers', 'reals')) return numbersChoice(ctx, `${ctx.declText} (REAL affinity)`, false);
  return byValues(ctx, `${ctx.declText} (REAL affinity) but holds ${classCounts(p)}`, true);
}

function mapNumericDecl(ctx: Ctx): Choice {
  const { p, decl } = ctx;
  const numericOk = only(p, 'integers', 'reals', 'texts') && p.texts === p.numericTexts;
  if (!numericOk) return byValues(ctx, `${ctx.declText} but holds ${classCounts(p)}`, true);
  const [prec, scale = 0] = decl.params;
  if (prec !== undefined && prec >= 1 && prec <= 1000 && scale >= 0 && scale <= prec) {
    const intDigits = p.maxPrecision - p.maxScale;
    if (p.maxScale <= scale && intDigits <= prec - scale) {
      return {
        pgType: `numeric(${prec},${scale})`,
        converter: { kind: 'numeric', precision: prec, scale },
        reason: `${ctx.declText} → numeric(${prec},${scale}) (every value fits)`,
        warnings: [],
      };
    }
    return {
      pgType: 'numeric',
      converter: { kind: 'numeric' },
      reason: `${ctx.declText} → numeric: values need ${intDigits > 1000 ? 'more' : intDigits} digits before and ${p.maxScale > 1000 ? 'more' : p.maxScale} after the point, beyond (${prec},${scale}) (SQLite does not enforce it)`,
      warnings: [`values do not fit numeric(${prec},${scale}); mapped to unconstrained numeric so nothing is rounded`],
    };
  }
  return {
    pgType: 'numeric',
    converter: { kind: 'numeric' },
    reason: `${ctx.declText} → numeric${p.reals ? ' (reals as their shortest exact decimal)' : ''}`,
    warnings: [],
  };
}

function mapBoolean(ctx: Ctx): Choice {
  const { p } = ctx;
  const boolTexts = p.booleanTexts ?? 0;
  const intsOk = p.integers === 0 || intsWithin(ctx, 0n, 1n);
  if (p.blobs === 0 && p.reals === 0 && intsOk && p.texts === boolTexts) {
    const how = p.texts ? ' and boolean words' : '';
    return { pgType: 'boolean', converter: { kind: 'boolean' }, reason: `${ctx.declText} → boolean (values are 0/1${how})`, warnings: [] };
  }
  if (only(p, 'integers')) {
    return {
      pgType: 'bigint',
      converter: BIGINT,
      reason: `${ctx.declText} but integers ${ctx.minI}..${ctx.maxI} are not all 0/1 → bigint`,
      warnings: [`${ctx.declText} holds integers other than 0/1 (${ctx.minI}..${ctx.maxI}): kept as bigint, not boolean`],
    };
  }
  const c = byValues(ctx, `${ctx.declText} but holds ${classCounts(p)} that are not all booleans`, false);
  return { ...c, warnings: [`${ctx.declText} holds ${classCounts(p)}, not all 0/1 or boolean words: mapped to ${c.pgType}`] };
}

type TemporalDecl = 'date' | 'timestamp' | 'timestamptz';

function temporalDecl(decl: DeclaredType): TemporalDecl | null {
  const n = decl.name;
  if (/TIMESTAMPTZ|WITH TIME ZONE|DATETIMEOFFSET/.test(n)) return 'timestamptz';
  if (/DATETIME|TIMESTAMP/.test(n)) return 'timestamp';
  if (n === 'DATE') return 'date';
  return null;
}

function mapTemporal(ctx: Ctx, kind: TemporalDecl): Choice {
  const { p } = ctx;
  const spec = (k: TemporalDecl): ConverterSpec => ({ kind: k });
  if (ctx.nonNull === 0) return { pgType: kind, converter: spec(kind), reason: `${ctx.declText} → ${kind} (no values)`, warnings: [] };
  if (only(p, 'texts')) {
    const iso = p.isoNaiveTexts + p.isoZonedTexts + p.dateTexts;
    if (iso < p.texts) {
      return {
        pgType: 'text',
        converter: { kind: 'text' },
        reason: `${ctx.declText} → text: ${p.texts - iso} of ${p.texts} values are not ISO-8601 date/times`,
        warnings: [`${ctx.declText} holds ${p.texts - iso} text values that are not ISO-8601 date/times: kept as text`],
      };
    }
    if (p.isoZonedTexts > 0 && p.isoZonedTexts < p.texts) {
      return {
        pgType: 'text',
        converter: { kind: 'text' },
        reason: `${ctx.declText} → text: ${p.isoZonedTexts} values carry a UTC offset and ${p.texts - p.isoZonedTexts} do not`,
        warnings: [
          `${ctx.declText} mixes ${p.isoZonedTexts} zoned and ${p.texts - p.isoZonedTexts} naive date/times: kept as text (no shift is guessed; --map ${ctx.table}.${ctx.col}=timestamptz reads naive ones as UTC)`,
        ],
      };
    }
    if (p.isoZonedTexts === p.texts) {
      return { pgType: 'timestamptz', converter: spec('timestamptz'), reason: `${ctx.declText} → timestamptz (values carry UTC offsets)`, warnings: [] };
    }
    if (p.dateTexts === p.texts && kind === 'date') {
      return { pgType: 'date', converter: spec('date'), reason: `${ctx.declText} → date`, warnings: [] };
    }
    if (kind === 'timestamptz') {
      return {
        pgType: 'timestamptz',
        converter: spec('timestamptz'),
        reason: `${ctx.declText} → timestamptz; values without an offset are read as UTC`,
        warnings: [`${ctx.declText} holds ${p.texts} date/times without an offset: read as UTC`],
      };
    }
    if (kind === 'date') {
      return {
        pgType: 'timestamp',
        converter: spec('timestamp'),
        reason: `${ctx.declText} → timestamp: ${p.isoNaiveTexts} values carry a time of day`,
        warnings: [`${ctx.declText} holds ${p.isoNaiveTexts} values with a time of day: mapped to timestamp so the time is kept`],
      };
    }
    return { pgType: 'timestamp', converter: spec('timestamp'), reason: `${ctx.declText} → timestamp (naive values kept as written, no time-zone shift)`, warnings: [] };
  }
  if (only(p, 'integers') && kind !== 'date' && intsWithin(ctx, 10000101000000n, 99991231235959n)) {
    const k = kind === 'timestamptz' ? 'timestamptz' : 'timestamp';
    return {
      pgType: k,
      converter: spec(k),
      reason: `${ctx.declText} → ${k}: every value is a YYYYMMDDHHMMSS number (SQLite's NUMERIC affinity stored the text as an integer)`,
      warnings: [],
    };
  }
  if (only(p, 'integers') && kind === 'date' && intsWithin(ctx, 10000101n, 99991231n)) {
    return {
      pgType: 'date',
      converter: spec('date'),
      reason: `${ctx.declText} → date: every value is a YYYYMMDD number (SQLite's NUMERIC affinity stored the text as an integer)`,
      warnings: [],
    };
  }
  if (only(p, 'integers')) {
    const unit = epochUnit(ctx, true);
    const hint = unit
      ? `they look like epoch ${UNIT_WORD[unit]}; use --map ${ctx.table}.${ctx.col}=${kind === 'date' ? 'timestamp' : kind}:${unit}`
      : `if they are Unix epochs use --map ${ctx.table}.${ctx.col}=timestamp:s (or :ms/:us)`;
    return {
      pgType: 'bigint',
      converter: BIGINT,
      reason: `${ctx.declText} but every value is an integer → bigint (never read as years)`,
      warnings: [`${ctx.declText} holds ${plural(p.integers, 'integer')} (${ctx.minI}..${ctx.maxI}), not date/time text: kept as bigint; ${hint}`],
    };
  }
  const c = byValues(ctx, `${ctx.declText} but holds ${classCounts(p)}`, false);
  const jd = p.reals > 0 && only(p, 'reals') ? `; if the reals are Julian days use --map ${ctx.table}.${ctx.col}=${kind}` : '';
  return { ...c, warnings: [`${ctx.declText} holds ${classCounts(p)}, not all ISO date/time text: mapped to ${c.pgType}${jd}`] };
}

function mapJson(ctx: Ctx): Choice {
  const { p } = ctx;
  if (ctx.nonNull === 0 || (only(p, 'texts', 'integers', 'reals') && p.jsonTexts === p.texts)) {
    return { pgType: 'jsonb', converter: { kind: 'jsonb' }, reason: `${ctx.declText} → jsonb (every value is valid JSON)`, warnings: [] };
  }
  const c = byValues(ctx, `${ctx.declText} but not every value is a JSON object/array`, false);
  return { ...c, warnings: [`${ctx.declText}: ${p.texts - p.jsonTexts} of ${p.texts} texts are not JSON objects/arrays${p.blobs ? ` and ${plural(p.blobs, 'blob')}` : ''}: mapped to ${c.pgType}`] };
}

function mapUuid(ctx: Ctx): Choice {
  const { p } = ctx;
  if (only(p, 'texts', 'blobs') && p.uuidTexts === p.texts && (p.uuidBlobs ?? 0) === p.blobs) {
    return { pgType: 'uuid', converter: { kind: 'uuid' }, reason: `${ctx.declText} → uuid (every value is a UUID)`, warnings: [] };
  }
  const c = byValues(ctx, `${ctx.declText} but not every value is a UUID`, false);
  return { ...c, warnings: [`${ctx.declText}: ${classCounts(p)}, of which ${p.uuidTexts + (p.uuidBlobs ?? 0)} are UUIDs: mapped to ${c.pgType}`] };
}

function mapNumericAffinity(ctx: Ctx): Choice {
  const n = ctx.decl.name;
  if (/\bBOOL(EAN)?\b/.test(n) || n === 'BIT') return mapBoolean(ctx);
  const t = temporalDecl(ctx.decl);
  if (t) return mapTemporal(ctx, t);
  if (n === 'JSON' || n === 'JSONB') return mapJson(ctx);
  if (n === 'UUID' || n === 'GUID' || n === 'UNIQUEIDENTIFIER') return mapUuid(ctx);
  if (/^(NUMERIC|DECIMAL|DEC|NUMBER|MONEY)\b/.test(n)) return mapNumericDecl(ctx);
  // Any other name (ENUM, YEAR, STRING, …) has NUMERIC affinity: decide by the values.
  const single = [ctx.p.integers, ctx.p.reals, ctx.p.texts, ctx.p.blobs].filter((x) => x > 0).length <= 1;
  return byValues(ctx, `${ctx.declText} (not a SQLite type: NUMERIC affinity)`, !single);
}

// ---------------------------------------------------------------------------------------------
// Suggestions

const UNIT_WORD = { s: 'seconds', ms: 'milliseconds', us: 'microseconds' } as const;
const EPOCH_RANGES: [unit: 's' | 'ms' | 'us', lo: bigint, hi: bigint][] = [
  ['s', 1_000_000_000n, 4_000_000_000n],
  ['ms', 1_000_000_000_000n, 4_000_000_000_000n],
  ['us', 1_000_000_000_000_000n, 4_000_000_000_000_000n],
];

function timeLikeName(name: string): boolean {
  return /(_at|_on|_ts|At|On)$|time|date|stamp|^ts$|expires|created|updated|modified/i.test(name);
}

/** Unit of epoch-shaped integers, by range (1e9..4e9 s, 1e12..4e12 ms, 1e15..4e15 µs). */
function epochUnit(ctx: Ctx, declaredTemporal: boolean): 's' | 'ms' | 'us' | null {
  const { p } = ctx;
  if (p.integers === 0 || !only(p, 'integers') || ctx.minI === null || ctx.maxI === null) return null;
  const named = declaredTemporal || timeLikeName(ctx.col);
  for (const [unit, lo, hi] of EPOCH_RANGES) {
    if (ctx.maxI >= lo && ctx.maxI <= hi && (ctx.minI >= lo || (named && ctx.minI >= -hi))) return unit;
  }
  return null;
}

function flagLikeName(name: string): boolean {
  return /^(is|has|can|should|was|were|did|does|allow|allows|enable|enabled|use|uses)[_A-Z]|(_flag|_enabled|_active|_deleted|_bool|Flag)$|^(active|enabled|deleted|disabled|visible|hidden|archived|verified|published)$/i.test(
    name,
  ) || /^(is|has)[A-Z]/.test(name);
}

function suggestionsFor(ctx: Ctx, current: Choice): Suggestion[] {
  const { p } = ctx;
  const out: Suggestion[] = [];
  const tc = `${ctx.table}.${ctx.col}`;
  if (current.converter.kind === 'integer') {
    const declaredBoolish = /TINYINT\s*\(\s*1\s*\)|\bBIT\b|BOOL/.test(ctx.decl.raw.toUpperCase());
    if (p.zeroOne && (flagLikeName(ctx.col) || declaredBoolish)) {
      out.push({ pgType: 'boolean', converter: { kind: 'boolean' }, map: `${tc}=boolean`, why: `only 0/1 values and ${declaredBoolish ? `declared ${ctx.decl.raw}` : 'a flag-like name'}` });
    }
    const unit = epochUnit(ctx, temporalDecl(ctx.decl) !== null);
    if (unit) {
      const tz = temporalDecl(ctx.decl) === 'timestamptz';
      const t = tz ? 'timestamptz' : 'timestamp';
      out.push({
        pgType: t,
        converter: { kind: 'epoch', unit, tz },
        map: `${tc}=${t}:${unit}`,
        why: `integers ${ctx.minI}..${ctx.maxI} look like Unix epoch ${UNIT_WORD[unit]}`,
      });
    }
  }
  if (current.converter.kind === 'text' && p.texts > 0 && only(p, 'texts')) {
    if (p.jsonTexts === p.texts) out.push({ pgType: 'jsonb', converter: { kind: 'jsonb' }, map: `${tc}=jsonb`, why: 'every value is a JSON object or array' });
    if (p.uuidTexts === p.texts) out.push({ pgType: 'uuid', converter: { kind: 'uuid' }, map: `${tc}=uuid`, why: 'every value is a UUID' });
    if (p.dateTexts === p.texts) {
      out.push({ pgType: 'date', converter: { kind: 'date' }, map: `${tc}=date`, why: 'every value is an ISO date' });
    } else if (p.isoZonedTexts === p.texts) {
      out.push({ pgType: 'timestamptz', converter: { kind: 'timestamptz' }, map: `${tc}=timestamptz`, why: 'every value is an ISO date-time with a UTC offset' });
    } else if (p.isoZonedTexts === 0 && p.isoNaiveTexts + p.dateTexts === p.texts) {
      out.push({ pgType: 'timestamp', converter: { kind: 'timestamp' }, map: `${tc}=timestamp`, why: 'every value is an ISO date/time without offset' });
    }
  }
  if (current.converter.kind === 'bytea' && p.blobs > 0 && only(p, 'blobs') && p.uuidBlobs === p.blobs && /uuid|guid/i.test(ctx.col)) {
    out.push({ pgType: 'uuid', converter: { kind: 'uuid' }, map: `${tc}=uuid`, why: 'every value is a 16-byte blob and the name says UUID' });
  }
  return out;
}

function suggestionText(s: Suggestion): string {
  return `${s.pgType}: ${s.why} — --map ${s.map} (or --infer)`;
}

// ---------------------------------------------------------------------------------------------
// Overrides

const OVERRIDE_TYPES =
  'smallint, integer, bigint, double precision, numeric[(p[,s])], text, varchar(n), bytea, boolean, timestamp[:s|ms|us], timestamptz[:s|ms|us], date, jsonb, json, uuid';

function parseOverride(table: string, col: string, raw: string): { pgType: string; converter: ConverterSpec } {
  const fail = (why: string): never => {
    throw new Error(`--map ${table}.${col}=${raw}: ${why} (known types: ${OVERRIDE_TYPES})`);
  };
  const m = /^\s*([^:]+?)\s*(?::\s*([A-Za-zµ]+)\s*)?$/.exec(raw);
  if (!m) return fail('expected type[:unit]');
  const type = m[1].toLowerCase().replace(/\s+/g, ' ');
  let unit = m[2]?.toLowerCase() ?? null;
  if (unit === 'µs') unit = 'us';
  if (unit !== null && unit !== 's' && unit !== 'ms' && unit !== 'us') fail(`unknown unit '${m[2]}' (s, ms or us)`);
  const u = unit as 's' | 'ms' | 'us' | null;
  const noUnit = (r: { pgType: string; converter: ConverterSpec }) => {
    if (u !== null) fail(`a unit only applies to timestamp and timestamptz`);
    return r;
  };
  let mm: RegExpExecArray | null;
  switch (type) {
    case 'smallint':
    case 'int2':
      return noUnit({ pgType: 'smallint', converter: { kind: 'integer', bits: 16 } });
    case 'integer':
    case 'int':
    case 'int4':
      return noUnit({ pgType: 'integer', converter: { kind: 'integer', bits: 32 } });
    case 'bigint':
    case 'int8':
      return noUnit({ pgType: 'bigint', converter: { kind: 'integer', bits: 64 } });
    case 'double precision':
    case 'double':
    case 'float8':
    case 'float':
      return noUnit({ pgType: 'double precision', converter: { kind: 'float' } });
    case 'real':
    case 'float4':
      return fail('real/float4 would round values; use double precision');
    case 'numeric':
    case 'decimal':
      return noUnit({ pgType: 'numeric', converter: { kind: 'numeric' } });
    case 'text':
      return noUnit({ pgType: 'text', converter: { kind: 'text' } });
    case 'bytea':
      return noUnit({ pgType: 'bytea', converter: { kind: 'bytea' } });
    case 'boolean':
    case 'bool':
      return noUnit({ pgType: 'boolean', converter: { kind: 'boolean' } });
    case 'date':
      return noUnit({ pgType: 'date', converter: { kind: 'date' } });
    case 'jsonb':
      return noUnit({ pgType: 'jsonb', converter: { kind: 'jsonb' } });
    case 'json':
      return noUnit({ pgType: 'json', converter: { kind: 'jsonb' } });
    case 'uuid':
      return noUnit({ pgType: 'uuid', converter: { kind: 'uuid' } });
    case 'timestamp':
    case 'timestamp without time zone':
    case 'datetime':
      return { pgType: 'timestamp', converter: u ? { kind: 'epoch', unit: u, tz: false } : { kind: 'timestamp' } };
    case 'timestamptz':
    case 'timestamp with time zone':
      return { pgType: 'timestamptz', converter: u ? { kind: 'epoch', unit: u, tz: true } : { kind: 'timestamptz' } };
  }
  if ((mm = /^(?:numeric|decimal) ?\( ?(\d+) ?(?:, ?(\d+) ?)?\)$/.exec(type))) {
    const p = Number(mm[1]);
    const s = mm[2] === undefined ? 0 : Number(mm[2]);
    if (p < 1 || p > 1000 || s > p) fail(`numeric precision must be 1..1000 and scale 0..precision`);
    return noUnit({ pgType: `numeric(${p},${s})`, converter: { kind: 'numeric', precision: p, scale: s } });
  }
  if ((mm = /^(?:varchar|character varying) ?\( ?(\d+) ?\)$/.exec(type))) {
    const n = Number(mm[1]);
    if (n < 1 || n > 10485760) fail('varchar length must be 1..10485760');
    return noUnit({ pgType: `varchar(${n})`, converter: { kind: 'text', maxLength: n } });
  }
  return fail(`unknown type '${m[1]}'`);
}

/** What the profile says will be rejected under `spec` (a warning, for overrides and --infer). */
function predictedRejects(ctx: Ctx, spec: ConverterSpec): string | null {
  const { p } = ctx;
  const bad: string[] = [];
  switch (spec.kind) {
    case 'integer': {
      const [lo, hi] = INT_RANGES[spec.bits];
      if (!intsWithin(ctx, lo, hi)) bad.push(`integers ${ctx.minI}..${ctx.maxI} exceed ${INT_NAMES[spec.bits]}`);
      if (p.reals > p.wholeReals) bad.push(plural(p.reals - p.wholeReals, 'non-whole real'));
      if (p.texts) bad.push(`${plural(p.texts, 'text value')} (accepted only when integer literals)`);
      if (p.blobs) bad.push(plural(p.blobs, 'blob'));
      break;
    }
    case 'float':
      if (!intsWithin(ctx, -TWO53, TWO53)) bad.push('integers beyond ±2^53 that are not exact as doubles');
      if (p.texts > p.numericTexts) bad.push(plural(p.texts - p.numericTexts, 'non-numeric text'));
      if (p.blobs) bad.push(plural(p.blobs, 'blob'));
      break;
    case 'numeric':
      if (p.texts > p.numericTexts) bad.push(plural(p.texts - p.numericTexts, 'non-numeric text'));
      if (p.blobs) bad.push(plural(p.blobs, 'blob'));
      if (spec.precision !== undefined) {
        const s = spec.scale ?? 0;
        if (p.maxScale > s || p.maxPrecision - p.maxScale > spec.precision - s) bad.push(`values beyond (${spec.precision},${s})`);
      }
      break;
    case 'text':
      if (p.blobs) bad.push(`${plural(p.blobs, 'blob')} (accepted only when valid UTF-8)`);
      if (spec.maxLength !== undefined && p.maxTextLength > spec.maxLength) bad.push(`texts longer than ${spec.maxLength} characters (up to ${p.maxTextLength})`);
      break;
    case 'boolean':
      if (p.integers && !intsWithin(ctx, 0n, 1n)) bad.push('integers other than 0/1');
      if (p.texts > (p.booleanTexts ?? 0)) bad.push(plural(p.texts - (p.booleanTexts ?? 0), 'non-boolean text'));
      if (p.reals) bad.push(`${plural(p.reals, 'real')} (accepted only when 0 or 1)`);
      if (p.blobs) bad.push(plural(p.blobs, 'blob'));
      break;
    case 'timestamp':
    case 'timestamptz':
    case 'date': {
      const iso = p.isoNaiveTexts + p.isoZonedTexts + p.dateTexts;
      if (p.texts > iso) bad.push(plural(p.texts - iso, 'non-ISO text'));
      if (spec.kind === 'timestamp' && p.isoZonedTexts) bad.push(`${p.isoZonedTexts} texts with a UTC offset`);
      if (spec.kind === 'date' && p.isoNaiveTexts + p.isoZonedTexts) bad.push(`${p.isoNaiveTexts + p.isoZonedTexts} texts with a time of day`);
      if (p.integers) bad.push(`${plural(p.integers, 'integer')} (use ${spec.kind === 'date' ? 'timestamp' : spec.kind}:s|ms|us for epochs)`);
      if (p.blobs) bad.push(plural(p.blobs, 'blob'));
      break;
    }
    case 'epoch':
      if (p.reals > p.wholeReals) bad.push(`${plural(p.reals - p.wholeReals, 'fractional real')} (accepted when exact to the microsecond)`);
      if (p.texts > p.numericTexts) bad.push(plural(p.texts - p.numericTexts, 'non-numeric text'));
      if (p.blobs) bad.push(plural(p.blobs, 'blob'));
      break;
    case 'jsonb':
      if (p.texts > p.jsonTexts) bad.push(`${plural(p.texts - p.jsonTexts, 'text')} that are not JSON objects/arrays (accepted when valid JSON scalars)`);
      if (p.blobs) bad.push(plural(p.blobs, 'blob'));
      break;
    case 'uuid':
      if (p.texts > p.uuidTexts) bad.push(plural(p.texts - p.uuidTexts, 'non-UUID text'));
      if (p.blobs > (p.uuidBlobs ?? 0)) bad.push(plural(p.blobs - (p.uuidBlobs ?? 0), 'blob') + ' not 16 bytes long');
      if (p.integers + p.reals) bad.push(plural(p.integers + p.reals, 'number'));
      break;
    case 'bytea':
      break;
  }
  return bad.length ? bad.join(', ') : null;
}

// ---------------------------------------------------------------------------------------------

export function mapColumn(input: MapColumnInput): MappedColumn {
  const { table, column, profile: p } = input;
  const decl = parseDeclaredType(column.declaredType);
  const ctx: Ctx = {
    table,
    col: column.name,
    decl,
    declText: decl.raw.trim() === '' ? 'no declared type' : `declared ${decl.raw.trim()}`,
    p,
    nonNull: p.rows - p.nulls,
    minI: p.integers > 0 && p.minInteger !== null ? BigInt(p.minInteger) : null,
    maxI: p.integers > 0 && p.maxInteger !== null ? BigInt(p.maxInteger) : null,
  };

  if (input.override !== null && input.override.trim() !== '') {
    const o = parseOverride(table, column.name, input.override);
    const warnings: string[] = [];
    const r = predictedRejects(ctx, o.converter);
    if (r) warnings.push(`override ${o.pgType}: these values will be rejected unless convertible: ${r}`);
    const natural = choose(ctx, input);
    return {
      pgType: o.pgType,
      converter: o.converter,
      reason: `--map ${table}.${column.name}=${input.override.trim()} → ${o.pgType} (${ctx.declText}; would otherwise be ${natural.pgType})`,
      warnings,
      suggestions: [],
    };
  }

  if (input.isRowidAlias) {
    const warnings = only(p, 'integers') ? [] : [`rowid alias holds ${classCounts(p)}`];
    return { pgType: 'bigint', converter: BIGINT, reason: 'INTEGER PRIMARY KEY (alias of rowid) → bigint', warnings, suggestions: [] };
  }

  const chosen = choose(ctx, input);
  const sugg = suggestionsFor(ctx, chosen);
  if (input.infer && sugg.length > 0) {
    const s = sugg[0];
    const r = predictedRejects(ctx, s.converter);
    return {
      pgType: s.pgType,
      converter: s.converter,
      reason: `--infer: ${s.pgType} because ${s.why} (${ctx.declText}; otherwise ${chosen.pgType})`,
      warnings: [...chosen.warnings, ...(r ? [`--infer ${s.pgType}: values that may be rejected: ${r}`] : [])],
      suggestions: sugg.slice(1).map(suggestionText),
    };
  }
  return { ...chosen, suggestions: sugg.map(suggestionText) };
}

function choose(ctx: Ctx, input: MapColumnInput): Choice {
  if (input.strict && ctx.decl.name === 'ANY') return byValues(ctx, 'declared ANY in a STRICT table (no affinity)', false);
  switch (ctx.decl.affinity) {
    case 'INTEGER':
      return mapInteger(ctx);
    case 'TEXT':
      return mapText(ctx);
    case 'BLOB':
      return byValues(ctx, ctx.decl.raw.trim() === '' ? 'no declared type' : `${ctx.declText}`, false);
    case 'REAL':
      return mapReal(ctx);
    case 'NUMERIC':
      return mapNumericAffinity(ctx);
  }
}

// =============================================================================================
// DEFAULT translation

type Skip = { sql: null; warning: string };

function skip(def: string, why: string): Skip {
  return { sql: null, warning: `DEFAULT ${def} skipped: ${why}` };
}

function pgString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

function stripParens(s: string): string {
  let t = s.trim();
  for (;;) {
    if (!(t.startsWith('(') && t.endsWith(')'))) return t;
    // only strip when the outer parentheses enclose the whole expression
    let depth = 0;
    let quote: string | null = null;
    let encloses = true;
    for (let i = 0; i < t.length; i++) {
      const c = t[i];
      if (quote) {
        if (c === quote) {
          if (t[i + 1] === quote) i++;
          else quote = null;
        }
        continue;
      }
      if (c === "'" || c === '"') quote = c;
      else if (c === '(') depth++;
      else if (c === ')') {
        depth--;
        if (depth === 0 && i < t.length - 1) {
          encloses = false;
          break;
        }
      }
    }
    if (!encloses) return t;
    t = t.slice(1, -1).trim();
  }
}

/** A single-quoted SQL string literal → its value, or null. */
function unquote(s: string): string | null {
  if (s.length < 2 || s[0] !== "'" || s[s.length - 1] !== "'") return null;
  const inner = s.slice(1, -1);
  let out = '';
  for (let i = 0; i < inner.length; i++) {
    if (inner[i] === "'") {
      if (inner[i + 1] !== "'") return null;
      i++;
    }
    out += inner[i];
  }
  return out;
}

type PgKind = 'int16' | 'int32' | 'int64' | 'float' | 'numeric' | 'text' | 'bytea' | 'boolean' | 'timestamp' | 'timestamptz' | 'date' | 'jsonb' | 'uuid' | 'other';

function pgKind(pgType: string): { kind: PgKind; maxLength?: number; precision?: number; scale?: number } {
  const t = pgType.toLowerCase().replace(/\s+/g, ' ').trim();
  let m: RegExpExecArray | null;
  if (t === 'smallint' || t === 'int2') return { kind: 'int16' };
  if (t === 'integer' || t === 'int' || t === 'int4') return { kind: 'int32' };
  if (t === 'bigint' || t === 'int8') return { kind: 'int64' };
  if (t === 'double precision' || t === 'float8' || t === 'real' || t === 'float4') return { kind: 'float' };
  if (t === 'numeric' || t === 'decimal') return { kind: 'numeric' };
  if ((m = /^(?:numeric|decimal) ?\((\d+)(?:, ?(\d+))?\)$/.exec(t))) return { kind: 'numeric', precision: Number(m[1]), scale: Number(m[2] ?? 0) };
  if (t === 'text') return { kind: 'text' };
  if ((m = /^(?:varchar|character varying) ?\((\d+)\)$/.exec(t))) return { kind: 'text', maxLength: Number(m[1]) };
  if (t === 'bytea') return { kind: 'bytea' };
  if (t === 'boolean' || t === 'bool') return { kind: 'boolean' };
  if (t === 'timestamp' || t === 'timestamp without time zone') return { kind: 'timestamp' };
  if (t === 'timestamptz' || t === 'timestamp with time zone') return { kind: 'timestamptz' };
  if (t === 'date') return { kind: 'date' };
  if (t === 'jsonb' || t === 'json') return { kind: 'jsonb' };
  if (t === 'uuid') return { kind: 'uuid' };
  return { kind: 'other' };
}

const NOW_UTC = "(now() AT TIME ZONE 'UTC')";

/** strftime format → to_char format, or null when a directive has no exact equivalent. */
function strftimeToChar(fmt: string): string | null {
  let out = '';
  let lit = '';
  const flush = () => {
    if (lit) out += `"${lit.replace(/"/g, '\\"')}"`;
    lit = '';
  };
  for (let i = 0; i < fmt.length; i++) {
    const c = fmt[i];
    if (c !== '%') {
      // digits and common punctuation are never to_char patterns; letters go in quotes
      if (/[-:./ ,_]/.test(c)) {
        flush();
        out += c;
      } else lit += c;
      continue;
    }
    const d = fmt[++i];
    const map: Record<string, string> = { Y: 'YYYY', m: 'MM', d: 'DD', H: 'HH24', M: 'MI', S: 'SS', f: 'SS.MS', j: 'DDD', '%': '%' };
    if (d === undefined || !(d in map)) return null;
    flush();
    out += map[d];
  }
  flush();
  return out;
}

/** What a strftime() format makes, if it is a plain date / date-time / epoch. */
function strftimeShape(fmt: string): 'epoch' | 'date' | 'datetime' | 'datetime-ms' | null {
  if (fmt === '%s') return 'epoch';
  if (fmt === '%Y-%m-%d') return 'date';
  if (/^%Y-%m-%d[T ]%H:%M:%S[Z]?$/.test(fmt)) return 'datetime';
  if (/^%Y-%m-%d[T ]%H:%M:%f[Z]?$/.test(fmt)) return 'datetime-ms';
  return null;
}

type NowShape = 'datetime' | 'datetime-ms' | 'date' | 'time' | 'epoch' | 'julian';

function nowExpression(shape: NowShape, kind: PgKind, textFmt: string | null): string | null {
  const trunc = shape === 'datetime-ms' ? 'milliseconds' : 'second';
  switch (kind) {
    case 'timestamp':
      if (shape === 'datetime' || shape === 'datetime-ms') return shape === 'datetime' ? NOW_UTC : `date_trunc('${trunc}', ${NOW_UTC})`;
      if (shape === 'date') return `date_trunc('day', ${NOW_UTC})`;
      return null;
    case 'timestamptz':
      if (shape === 'datetime') return 'now()';
      if (shape === 'datetime-ms') return `date_trunc('milliseconds', now())`;
      if (shape === 'date') return `(date_trunc('day', ${NOW_UTC}) AT TIME ZONE 'UTC')`;
      return null;
    case 'date':
      if (shape === 'date' || shape === 'datetime' || shape === 'datetime-ms') return `(${NOW_UTC})::date`;
      return null;
    case 'int64':
    case 'numeric':
      if (shape === 'epoch') return 'floor(extract(epoch from now()))::bigint';
      if (shape === 'julian' && kind === 'numeric') return "(extract(epoch from now()) / 86400 + 2440587.5)";
      return null;
    case 'float':
      if (shape === 'epoch') return 'floor(extract(epoch from now()))';
      if (shape === 'julian') return "(extract(epoch from now()) / 86400.0 + 2440587.5)::double precision";
      return null;
    case 'text': {
      if (shape === 'epoch') return 'floor(extract(epoch from now()))::bigint::text';
      if (shape === 'julian') return null;
      const f =
        textFmt ??
        (shape === 'datetime' ? 'YYYY-MM-DD HH24:MI:SS' : shape === 'date' ? 'YYYY-MM-DD' : shape === 'time' ? 'HH24:MI:SS' : null);
      return f === null ? null : `to_char(${NOW_UTC}, ${pgString(f)})`;
    }
    default:
      return null;
  }
}

/** A literal value (number or string) as a DEFAULT of a column of kind k, or a skip reason. */
function literalDefault(def: string, value: string, isNumber: boolean, k: ReturnType<typeof pgKind>): { sql: string | null; warning: string | null } {
  const kind = k.kind;
  switch (kind) {
    case 'int16':
    case 'int32':
    case 'int64': {
      const t = value.trim();
      if (!/^[+-]?\d+$/.test(t)) {
        const d = parseDecimal(t);
        if (d && d.exp >= 0 && d.digits.length + d.exp <= 19) return literalDefault(def, (d.neg ? '-' : '') + (d.digits || '0') + '0'.repeat(d.digits ? d.exp : 0), true, k);
        return skip(def, `${pgString(value)} is not an integer`);
      }
      const b = BigInt(t);
      const [lo, hi] = INT_RANGES[kind === 'int16' ? 16 : kind === 'int32' ? 32 : 64];
      if (b < lo || b > hi) return skip(def, `${t} is out of range`);
      return { sql: b.toString(), warning: null };
    }
    case 'float':
    case 'numeric': {
      const t = value.trim();
      const d = parseDecimal(t);
      if (!d) return skip(def, `${pgString(value)} is not a number`);
      if (kind === 'numeric' && k.precision !== undefined) {
        const sc = d.exp < 0 ? -d.exp : 0;
        const id = d.digits ? Math.max(0, d.digits.length + d.exp) : 0;
        if (sc > (k.scale ?? 0) || id > k.precision - (k.scale ?? 0)) return skip(def, `${t} does not fit numeric(${k.precision},${k.scale ?? 0})`);
      }
      if (kind === 'float' && !Number.isFinite(Number(t))) return skip(def, `${t} is out of range for double precision`);
      void isNumber;
      return { sql: t.replace(/^\+/, ''), warning: null };
    }
    case 'boolean': {
      const w = booleanWord(value.trim());
      if (w === null) return skip(def, `${pgString(value)} is not a boolean`);
      return { sql: w === 't' ? 'true' : 'false', warning: null };
    }
    case 'text': {
      if (value.includes('\0')) return skip(def, 'the value contains a NUL character');
      if (k.maxLength !== undefined && [...value].length > k.maxLength) return skip(def, `the value is longer than ${k.maxLength} characters`);
      return { sql: pgString(value), warning: null };
    }
    case 'bytea':
      if (value.includes('\0')) return skip(def, 'the value contains a NUL character');
      return { sql: `'\\x${Buffer.from(value, 'utf8').toString('hex')}'::bytea`, warning: null };
    case 'timestamp':
    case 'timestamptz':
    case 'date': {
      const parts = parseDateTimeText(value);
      if (typeof parts === 'string') return skip(def, `${pgString(value)} is not an exact date/time (${parts})`);
      try {
        const enc = makeEncoder({ kind })(value);
        return { sql: `${pgString(enc)}::${kind}`, warning: null };
      } catch (e) {
        return skip(def, (e as Error).message);
      }
    }
    case 'jsonb':
      try {
        JSON.parse(value);
      } catch {
        return skip(def, `${pgString(value)} is not valid JSON`);
      }
      if (value.includes('\\u0000') || value.includes('\0')) return skip(def, 'the JSON contains \\u0000');
      return { sql: `${pgString(value)}::jsonb`, warning: null };
    case 'uuid': {
      const u = canonicalUuid(value);
      if (u === null) return skip(def, `${pgString(value)} is not a UUID`);
      return { sql: `${pgString(u)}::uuid`, warning: null };
    }
    default:
      return skip(def, `no translation for a literal into ${kind}`);
  }
}

/** Translates a SQLite DEFAULT clause for a column of the given PostgreSQL type. */
export function translateDefault(sqliteDefault: string, pgType: string): { sql: string | null; warning: string | null } {
  const def = sqliteDefault.trim();
  const k = pgKind(pgType);
  const e = stripParens(def);
  const upper = e.toUpperCase().replace(/\s+/g, ' ');
  if (upper === 'NULL') return { sql: null, warning: null };

  // Numeric literal (optionally signed); hex integers too.
  const numeric = e.replace(/^([+-])\s+/, '$1');
  if (parseDecimal(numeric) !== null) return literalDefault(def, numeric, true, k);
  if (/^[+-]?0x[0-9a-f]+$/i.test(numeric)) {
    const neg = numeric.startsWith('-');
    const v = BigInt(numeric.replace(/^[+-]/, ''));
    return literalDefault(def, (neg ? -v : v).toString(), true, k);
  }

  const str = unquote(e);
  if (str !== null) return literalDefault(def, str, false, k);
  // SQLite reads a double-quoted DEFAULT that names no column as a string literal ("" → '').
  if (e.length >= 2 && e[0] === '"' && e[e.length - 1] === '"') {
    const dq = unquote(`'${e.slice(1, -1).replace(/""/g, '"').replace(/'/g, "''")}'`);
    if (dq !== null) return literalDefault(def, dq, false, k);
  }

  // Blob literal X'…'
  const blob = /^[xX]'([0-9a-fA-F]*)'$/.exec(e);
  if (blob) {
    if (blob[1].length % 2 !== 0) return skip(def, 'malformed blob literal');
    if (k.kind === 'bytea') return { sql: `'\\x${blob[1].toLowerCase()}'::bytea`, warning: null };
    if (k.kind === 'uuid' && blob[1].length === 32) return literalDefault(def, blob[1], false, k);
    return skip(def, `a blob literal cannot be a ${pgType} value`);
  }

  if (upper === 'TRUE' || upper === 'FALSE') {
    const one = upper === 'TRUE';
    if (k.kind === 'boolean') return { sql: one ? 'true' : 'false', warning: null };
    return literalDefault(def, one ? '1' : '0', true, k); // SQLite's TRUE/FALSE are the integers 1/0
  }

  // Current date/time.
  let shape: NowShape | null = null;
  let textFmt: string | null = null;
  const fn = /^([a-z_]+)\s*\((.*)\)$/is.exec(e);
  if (upper === 'CURRENT_TIMESTAMP') shape = 'datetime';
  else if (upper === 'CURRENT_DATE') shape = 'date';
  else if (upper === 'CURRENT_TIME') shape = 'time';
  else if (fn) {
    const name = fn[1].toLowerCase();
    const args = splitArgs(fn[2]);
    if (args === null) return skip(def, 'cannot parse the expression');
    const lits = args.map((a) => unquote(a.trim()));
    const isNow = (x: string | null | undefined) => x !== null && x !== undefined && x.toLowerCase() === 'now';
    if (lits.some((x) => x === null) && !(name === 'unixepoch' && args.length === 0)) {
      const rnd = /^(lower|upper)?\s*\(?\s*hex\s*\(\s*randomblob\s*\(\s*16\s*\)\s*\)\s*\)?$/i.exec(e);
      if (rnd && k.kind === 'text') {
        const hex = "replace(gen_random_uuid()::text, '-', '')";
        return {
          sql: rnd[1]?.toLowerCase() === 'lower' ? hex : `upper(${hex})`,
          warning: `DEFAULT ${def} translated to 32 random hex digits from gen_random_uuid() (6 of its 128 bits are fixed)`,
        };
      }
      return skip(def, 'expression not translated (its arguments are not constants)');
    }
    if (name === 'datetime' && args.length === 1 && isNow(lits[0])) shape = 'datetime';
    else if (name === 'date' && args.length === 1 && isNow(lits[0])) shape = 'date';
    else if (name === 'time' && args.length === 1 && isNow(lits[0])) shape = 'time';
    else if (name === 'julianday' && args.length === 1 && isNow(lits[0])) shape = 'julian';
    else if (name === 'unixepoch' && (args.length === 0 || (args.length === 1 && isNow(lits[0])))) shape = 'epoch';
    else if (name === 'strftime' && args.length === 2 && isNow(lits[1])) {
      const fmt = lits[0]!;
      const s = strftimeShape(fmt);
      if (k.kind === 'text') {
        if (s === 'epoch') shape = 'epoch';
        else {
          textFmt = strftimeToChar(fmt);
          if (textFmt === null) return skip(def, `strftime format ${pgString(fmt)} has no exact to_char equivalent`);
          shape = 'datetime';
        }
      } else shape = s;
      if (shape === null) return skip(def, `strftime format ${pgString(fmt)} has no equivalent for a ${pgType} column`);
    } else if (args.length > 1 && lits.some((x) => x !== null && /localtime|utc|[+-]\d|start of|weekday|days?|hours?|minutes?|seconds?|months?|years?/i.test(x))) {
      return skip(def, 'date/time modifiers are not translated');
    }
  }
  if (shape !== null) {
    const sql = nowExpression(shape, k.kind, textFmt);
    if (sql === null) return skip(def, `the current ${shape === 'epoch' ? 'epoch' : shape === 'julian' ? 'Julian day' : shape} has no exact equivalent in a ${pgType} column`);
    return { sql, warning: null };
  }
  return skip(def, 'expression not translated; set it in PostgreSQL if it is needed');
}

/** Splits function arguments at top-level commas (quotes respected); null when unbalanced. */
function splitArgs(s: string): string[] | null {
  if (s.trim() === '') return [];
  const out: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      cur += c;
      if (c === quote) {
        if (s[i + 1] === quote) cur += s[++i];
        else quote = null;
      }
      continue;
    }
    if (c === "'" || c === '"') quote = c;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    if (c === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  if (quote || depth !== 0) return null;
  out.push(cur);
  return out;
}
