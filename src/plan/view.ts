// Translates a SQLite view to PostgreSQL, token by token: identifiers through
// the plan's target names, a whitelist of functions and operators with the
// same meaning. Anything else makes the view "not portable" (reported with its
// SQL). Pure. PostgreSQL gets the last word: the constraints step creates the
// view in a savepoint and reports it as skipped when PostgreSQL refuses it.
import { quoteIdent } from '../postgres/sql';
import { parseCreateView, tokenize, unquoteIdent, type Token } from '../sqlite/sql-text';

export interface ViewNames {
  /** Relations (tables and views) by SQLite name, lower-cased → target name. */
  relations: Map<string, string>;
  /** Column names by SQLite name, lower-cased → target name(s) across every table. */
  columns: Map<string, Set<string>>;
  /** Lower-cased column names that are boolean in PostgreSQL in every table that has them. */
  booleans?: Set<string>;
}

export type ViewResult = { ok: true; select: string; columns: string[] | null } | { ok: false; reason: string };

const PASS_KEYWORDS = new Set([
  'SELECT', 'DISTINCT', 'ALL', 'FROM', 'WHERE', 'GROUP', 'BY', 'HAVING', 'ORDER', 'ASC', 'DESC', 'LIMIT', 'OFFSET', 'AS',
  'JOIN', 'INNER', 'LEFT', 'RIGHT', 'FULL', 'OUTER', 'CROSS', 'ON', 'USING', 'UNION', 'INTERSECT', 'EXCEPT', 'AND', 'OR',
  'NOT', 'NULL', 'IN', 'BETWEEN', 'CASE', 'WHEN', 'THEN', 'ELSE', 'END', 'EXISTS', 'NULLS', 'FIRST', 'LAST', 'WITH',
]);

/** Not portable as words: their SQLite meaning differs or has no PostgreSQL form. */
const REFUSED_KEYWORDS = new Set(['GLOB', 'REGEXP', 'MATCH', 'CAST', 'COLLATE', 'ISNULL', 'NOTNULL', 'NATURAL', 'INDEXED', 'RECURSIVE', 'WINDOW', 'FILTER', 'OVER']);

/** Functions with the same meaning in both (aggregates over any values; text functions over text). */
const FUNCTIONS: Record<string, string> = {
  count: 'count', sum: 'sum', avg: 'avg', min: 'min', max: 'max', coalesce: 'coalesce', ifnull: 'coalesce', nullif: 'nullif',
  lower: 'lower', upper: 'upper', length: 'length', abs: 'abs', replace: 'replace', trim: 'btrim', ltrim: 'ltrim', rtrim: 'rtrim',
};

export function translateView(sql: string, names: ViewNames): ViewResult {
  const parsed = parseCreateView(sql);
  if (!parsed) return { ok: false, reason: 'cannot read the CREATE VIEW statement' };
  const toks = tokenize(parsed.select);
  const out: string[] = [];
  // Aliases and other names that are neither tables nor columns keep one spelling (SQLite names ignore case).
  const spelling = new Map<string, string>();
  try {
    for (let i = 0; i < toks.length; i++) {
      const t = toks[i]!;
      const next = toks[i + 1];
      const prev = toks[i - 1];
      if (t.kind === 'string' || t.kind === 'number') {
        if (t.kind === 'number' && /^0x/i.test(t.text)) out.push(BigInt(t.text).toString());
        else out.push(t.text);
        continue;
      }
      if (t.kind === 'punct') {
        if (t.text === '==') out.push('=');
        else if (['?', ':', '@', '$', '->', '~'].includes(t.text)) throw new Error(`"${t.text}" is not portable`);
        else if (t.text === '-' && next?.text === '>') throw new Error('JSON -> operators are not portable');
        else out.push(t.text);
        continue;
      }
      const up = t.kind === 'word' ? t.text.toUpperCase() : '';
      if (t.kind === 'word' && next?.kind === 'punct' && next.text === '(' && !PASS_KEYWORDS.has(up)) {
        const fn = FUNCTIONS[t.text.toLowerCase()];
        if (!fn) throw new Error(`function ${t.text}() has no exact PostgreSQL equivalent`);
        if ((fn === 'min' || fn === 'max') && topLevelCommas(toks, i + 1) > 0) throw new Error(`scalar ${fn}() (NULL handling differs from least/greatest)`);
        out.push(`${fn}(`);
        i++;
        continue;
      }
      if (t.kind === 'word' && up === 'X' && next?.kind === 'string' && next.start === t.end) throw new Error('blob literals');
      if (t.kind === 'word' && REFUSED_KEYWORDS.has(up)) throw new Error(`${up} is not portable`);
      if (t.kind === 'word' && up === 'LIKE') {
        // SQLite's LIKE ignores ASCII case and has no escape character by default.
        if (toks[i + 1]?.kind !== 'string' || toks[i + 2]?.text.toUpperCase() === 'ESCAPE') throw new Error('LIKE with a non-literal pattern or ESCAPE');
        out.push('ILIKE', toks[i + 1]!.text, "ESCAPE ''");
        i++;
        continue;
      }
      if (t.kind === 'word' && up === 'IS') {
        const n1 = toks[i + 1]?.text.toUpperCase();
        const n2 = toks[i + 2]?.text.toUpperCase();
        if (!(n1 === 'NULL' || (n1 === 'NOT' && n2 === 'NULL'))) throw new Error('IS between values (null-safe equality) is not translated');
        out.push('IS');
        continue;
      }
      if (t.kind === 'word' && (PASS_KEYWORDS.has(up) || up === 'LIKE')) {
        out.push(up);
        continue;
      }
      if (t.kind === 'word' && (up === 'TRUE' || up === 'FALSE')) {
        out.push(up === 'TRUE' ? '1' : '0');
        continue;
      }
      if (t.kind === 'word' && /^(CURRENT_TIMESTAMP|CURRENT_DATE|CURRENT_TIME)$/.test(up)) throw new Error(`${up} returns text in SQLite`);
      // A name: relation, column, or alias.
      const name = t.kind === 'ident' ? unquoteIdent(t.text) : t.text;
      const key = name.toLowerCase();
      const afterDot = prev?.text === '.';
      const beforeDot = next?.text === '.';
      const rel = names.relations.get(key);
      const cols = names.columns.get(key);
      let target: string;
      if (afterDot) {
        if (!cols) throw new Error(`unknown column "${name}"`);
        if (cols.size > 1) throw new Error(`column "${name}" has different target names in different tables`);
        target = [...cols][0]!;
      } else if (beforeDot && rel !== undefined && !spelling.has(key)) target = rel;
      else if (!beforeDot && rel !== undefined && isRelationPosition(toks, i)) target = rel;
      else if (cols && !beforeDot) {
        if (cols.size > 1) throw new Error(`column "${name}" has different target names in different tables`);
        target = [...cols][0]!;
      } else {
        if (!spelling.has(key)) spelling.set(key, rel ?? name);
        target = spelling.get(key)!;
      }
      out.push(quoteIdent(target));
      // A 0/1 column mapped to boolean compared with 0 or 1: compare with false/true.
      if (!beforeDot && cols && names.booleans?.has(key)) {
        const op = toks[i + 1];
        const lit = toks[i + 2];
        if (op?.kind === 'punct' && ['=', '==', '!=', '<>'].includes(op.text) && lit?.kind === 'number' && (lit.text === '0' || lit.text === '1')) {
          out.push(op.text === '==' ? '=' : op.text, lit.text === '1' ? 'true' : 'false');
          i += 2;
        } else if (op?.kind === 'punct' && ['=', '==', '!=', '<>', '<', '>', '<=', '>='].includes(op.text)) {
          throw new Error(`boolean column "${name}" compared with something other than 0/1`);
        }
      }
    }
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
  let text = '';
  for (const piece of out) {
    if (text === '' || piece === ',' || piece === ')' || piece === '.' || text.endsWith('(') || text.endsWith('.')) text += piece;
    else text += ' ' + piece;
  }
  return { ok: true, select: text, columns: parsed.columns };
}

/** After FROM / JOIN / a comma in a FROM list: the word names a relation. */
function isRelationPosition(toks: Token[], i: number): boolean {
  for (let k = i - 1; k >= 0; k--) {
    const w = toks[k]!.text.toUpperCase();
    if (w === 'FROM' || w === 'JOIN') return true;
    if (w === ',') continue;
    if (toks[k]!.kind === 'ident' || toks[k]!.kind === 'word') {
      // "FROM a x, b": skip an alias and its relation.
      if (['ON', 'WHERE', 'SELECT', 'GROUP', 'ORDER', 'HAVING', 'USING', 'AND', 'OR'].includes(w)) return false;
      continue;
    }
    return false;
  }
  return false;
}

function topLevelCommas(toks: Token[], open: number): number {
  let depth = 0;
  let n = 0;
  for (let k = open; k < toks.length; k++) {
    const t = toks[k]!.text;
    if (t === '(') depth++;
    else if (t === ')') {
      depth--;
      if (depth === 0) break;
    } else if (t === ',' && depth === 1) n++;
  }
  return n;
}
