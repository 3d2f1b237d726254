// Translates portable SQLite expressions (CHECK bodies, partial-index WHERE
// clauses, index key expressions) to PostgreSQL. Pure.
//
// The translator parses the expression (SQLite precedence), resolves every
// column through the plan's target names, and emits fully parenthesised
// PostgreSQL. Anything whose meaning differs between the two engines and has
// no exact rewrite (typeof(), REGEXP, json functions, date functions,
// subqueries, scalar min/max, …) makes the whole expression untranslatable:
// the caller then reports it with the reason instead of creating it.
import { tokenize, unquoteIdent, type Token } from '../sqlite/sql-text';

export interface ExprColumn {
  /** Target (PostgreSQL) name. */
  target: string;
  pgType: string;
  /** Declared collation of the column in SQLite (NOCASE/RTRIM change comparisons). */
  collation?: string | null;
}

export interface ExprContext {
  /** Columns by SQLite name, matched case-insensitively. */
  columns: Map<string, ExprColumn>;
  /** Table names (source, any case) that may qualify a column, e.g. t.col. */
  tableNames?: string[];
}

export type ExprResult = { ok: true; sql: string; notes: string[] } | { ok: false; reason: string };

type Ty = 'bool' | 'int' | 'num' | 'text' | 'bytea' | 'null' | 'other';

interface Node {
  sql: string;
  ty: Ty;
  /** Integer literal value (for boolean coercion). */
  intLit?: bigint;
  /** Text literal (for NOCASE folding / GLOB). */
  strLit?: string;
  /** Comparison folding: 'nocase' compares lower(), 'rtrim' compares rtrim(). */
  fold?: 'nocase' | 'rtrim';
  /** Column target name, when the node is a bare column. */
  column?: string;
  /** The fold comes from an explicit COLLATE (which wins over a column's declared one). */
  explicit?: boolean;
}

class Untranslatable extends Error {}

function fail(reason: string): never {
  throw new Untranslatable(reason);
}

export function pgTypeKind(pgType: string): Ty {
  const t = pgType.toLowerCase();
  if (t === 'boolean') return 'bool';
  if (/^(smallint|integer|bigint)$/.test(t)) return 'int';
  if (/^(double precision|real|numeric)/.test(t)) return 'num';
  if (/^(text|varchar|character varying|char)/.test(t)) return 'text';
  if (t === 'bytea') return 'bytea';
  return 'other';
}

export function quotePgIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function pgStringLiteral(s: string): string {
  if (s.includes('\0')) fail('a string literal holds a NUL character');
  return `'${s.replace(/'/g, "''")}'`;
}

const KEYWORDS = new Set([
  'AND', 'OR', 'NOT', 'IS', 'IN', 'LIKE', 'GLOB', 'MATCH', 'REGEXP', 'BETWEEN', 'ESCAPE', 'NULL', 'ISNULL', 'NOTNULL',
  'CASE', 'WHEN', 'THEN', 'ELSE', 'END', 'COLLATE', 'CAST', 'AS', 'DISTINCT', 'FROM', 'EXISTS', 'SELECT', 'TRUE', 'FALSE',
  'CURRENT_TIMESTAMP', 'CURRENT_DATE', 'CURRENT_TIME',
]);

/** SQLite functions with an exact PostgreSQL counterpart (for the argument types we allow). */
const FUNCTIONS: Record<string, (args: Node[]) => Node> = {
  abs: (a) => {
    arity(a, 1, 'abs');
    if (!isNumeric(a[0]!)) fail('abs() of a non-numeric value');
    return { sql: `abs(${a[0]!.sql})`, ty: a[0]!.ty };
  },
  lower: (a) => textFn('lower', a, 1),
  upper: (a) => textFn('upper', a, 1),
  length: (a) => {
    arity(a, 1, 'length');
    const x = a[0]!;
    if (x.ty === 'text' || x.ty === 'null') return { sql: `length(${x.sql})`, ty: 'int' };
    if (x.ty === 'bytea') return { sql: `length(${x.sql})`, ty: 'int' };
    return fail(`length() of a ${x.ty} value counts the characters of its SQLite text form`);
  },
  octet_length: (a) => {
    arity(a, 1, 'octet_length');
    if (a[0]!.ty !== 'bytea') fail('octet_length() of a non-blob value');
    return { sql: `octet_length(${a[0]!.sql})`, ty: 'int' };
  },
  coalesce: (a) => coalesce(a),
  ifnull: (a) => {
    arity(a, 2, 'ifnull');
    return coalesce(a);
  },
  nullif: (a) => {
    arity(a, 2, 'nullif');
    const [x, y] = unify(a[0]!, a[1]!);
    return { sql: `nullif(${x.sql}, ${y.sql})`, ty: x.ty };
  },
  trim: (a) => trimFn('btrim', a),
  ltrim: (a) => trimFn('ltrim', a),
  rtrim: (a) => trimFn('rtrim', a),
  replace: (a) => {
    arity(a, 3, 'replace');
    for (const x of a) if (x.ty !== 'text' && x.ty !== 'null') fail('replace() of a non-text value');
    return { sql: `replace(${a.map((x) => x.sql).join(', ')})`, ty: 'text' };
  },
  instr: (a) => {
    arity(a, 2, 'instr');
    for (const x of a) if (x.ty !== 'text') fail('instr() of a non-text value');
    return { sql: `strpos(${a[0]!.sql}, ${a[1]!.sql})`, ty: 'int' };
  },
  substr: (a) => substr(a),
  substring: (a) => substr(a),
};

function arity(a: Node[], n: number, name: string): void {
  if (a.length !== n) fail(`${name}() with ${a.length} argument(s)`);
}

function isNumeric(n: Node): boolean {
  return n.ty === 'int' || n.ty === 'num' || n.ty === 'null';
}

function textFn(name: string, a: Node[], n: number): Node {
  arity(a, n, name);
  if (a[0]!.ty !== 'text' && a[0]!.ty !== 'null') fail(`${name}() of a ${a[0]!.ty} value`);
  return { sql: `${name}(${a[0]!.sql})`, ty: 'text' };
}

function trimFn(pgName: string, a: Node[]): Node {
  if (a.length < 1 || a.length > 2) fail(`trim() with ${a.length} arguments`);
  for (const x of a) if (x.ty !== 'text' && x.ty !== 'null') fail(`trim() of a ${x.ty} value`);
  // SQLite trim(X) removes spaces only, like PostgreSQL's btrim(X); trim(X, Y) removes any character of Y on both.
  return { sql: `${pgName}(${a.map((x) => x.sql).join(', ')})`, ty: 'text' };
}

function substr(a: Node[]): Node {
  if (a.length < 2 || a.length > 3) fail(`substr() with ${a.length} arguments`);
  if (a[0]!.ty !== 'text') fail('substr() of a non-text value');
  // Negative or zero starts count differently in SQLite; only positive literal starts and lengths are exact.
  for (const x of a.slice(1)) if (x.intLit === undefined || x.intLit < 1n) fail('substr() with a start/length that is not a positive integer literal');
  return { sql: `substr(${a.map((x) => x.sql).join(', ')})`, ty: 'text' };
}

function coalesce(a: Node[]): Node {
  if (a.length < 2) fail('coalesce() needs two arguments');
  let ty: Ty = 'null';
  for (const x of a) if (x.ty !== 'null') ty = ty === 'null' || ty === x.ty ? x.ty : ty === 'int' && x.ty === 'num' ? 'num' : x.ty === 'int' && ty === 'num' ? 'num' : fail('coalesce() of values of different types');
  const args = a.map((x) => (ty === 'bool' ? asBoolOperand(x) : x.sql));
  return { sql: `coalesce(${args.join(', ')})`, ty };
}

/** A literal 0/1 next to a boolean column becomes false/true; other integers cannot. */
function asBoolOperand(n: Node): string {
  if (n.ty === 'bool' || n.ty === 'null') return n.sql;
  if (n.intLit === 0n) return 'false';
  if (n.intLit === 1n) return 'true';
  return fail(`a boolean column is compared with ${n.sql}, which is not 0 or 1`);
}

/** Makes two operands comparable: boolean columns vs 0/1, NOCASE/RTRIM columns vs text. */
function unify(x: Node, y: Node): [Node, Node] {
  if (x.ty === 'bool' && y.ty !== 'bool') return [x, { sql: asBoolOperand(y), ty: 'bool' }];
  if (y.ty === 'bool' && x.ty !== 'bool') return [{ sql: asBoolOperand(x), ty: 'bool' }, y];
  const textual = (n: Node) => n.ty === 'text' || n.ty === 'null';
  if ((x.ty === 'text' && (y.ty === 'int' || y.ty === 'num')) || (y.ty === 'text' && (x.ty === 'int' || x.ty === 'num'))) {
    // SQLite compares across storage classes (any number < any text); PostgreSQL refuses or converts.
    fail('a text value is compared with a number (SQLite orders every number before every text)');
  }
  const fold = x.explicit ? x.fold : y.explicit ? y.fold : (x.fold ?? y.fold);
  if (fold && textual(x) && textual(y)) {
    const f = (n: Node) => (fold === 'nocase' ? `lower(${n.sql})` : `rtrim(${n.sql}, ' ')`);
    return [{ ...x, sql: f(x) }, { ...y, sql: f(y) }];
  }
  return [x, y];
}

/** In a boolean context (WHERE, CHECK, AND/OR/NOT operands) SQLite tests numbers for non-zero. */
function truthy(n: Node): string {
  if (n.ty === 'bool' || n.ty === 'null') return n.sql;
  if (n.ty === 'int' || n.ty === 'num') return `(${n.sql} <> 0)`;
  return fail(`a ${n.ty} value used as a condition (SQLite converts it to a number)`);
}

function globToLike(glob: string): string | null {
  let out = '';
  for (const ch of glob) {
    if (ch === '[' || ch === ']') return null;
    if (ch === '*') out += '%';
    else if (ch === '?') out += '_';
    else if (ch === '%' || ch === '_' || ch === '\\') out += '\\' + ch;
    else out += ch;
  }
  return out;
}

function globToRegex(glob: string): string | null {
  let out = '^';
  let i = 0;
  const chars = [...glob];
  while (i < chars.length) {
    const ch = chars[i]!;
    if (ch === '*') out += '.*';
    else if (ch === '?') out += '.';
    else if (ch === '[') {
      let j = i + 1;
      let cls = '[';
      if (chars[j] === '^') {
        cls += '^';
        j++;
      }
      if (chars[j] === ']') {
        cls += '\\]';
        j++;
      }
      while (j < chars.length && chars[j] !== ']') {
        cls += chars[j] === '\\' ? '\\\\' : chars[j];
        j++;
      }
      if (j >= chars.length) return null;
      out += cls + ']';
      i = j;
    } else out += /[.^$+(){}|\\]/.test(ch) ? '\\' + ch : ch;
    i++;
  }
  return out + '$';
}

class Parser {
  private i = 0;
  readonly notes: string[] = [];
  constructor(
    private readonly toks: Token[],
    private readonly ctx: ExprContext,
  ) {}

  private peek(o = 0): Token | undefined {
    return this.toks[this.i + o];
  }
  private word(o = 0): string {
    const t = this.peek(o);
    return t && t.kind === 'word' ? t.text.toUpperCase() : '';
  }
  private isPunct(text: string, o = 0): boolean {
    const t = this.peek(o);
    return !!t && t.kind === 'punct' && t.text === text;
  }
  private expectPunct(text: string): void {
    if (!this.isPunct(text)) fail(`expected "${text}" near ${this.peek()?.text ?? 'the end'}`);
    this.i++;
  }
  private expectWord(w: string): void {
    if (this.word() !== w) fail(`expected ${w} near ${this.peek()?.text ?? 'the end'}`);
    this.i++;
  }
  atEnd(): boolean {
    return this.i >= this.toks.length;
  }

  parse(): Node {
    const n = this.or();
    if (!this.atEnd()) fail(`cannot parse near "${this.peek()!.text}"`);
    return n;
  }

  private or(): Node {
    let l = this.and();
    while (this.word() === 'OR') {
      this.i++;
      const r = this.and();
      l = { sql: `(${truthy(l)} OR ${truthy(r)})`, ty: 'bool' };
    }
    return l;
  }
  private and(): Node {
    let l = this.not();
    while (this.word() === 'AND') {
      this.i++;
      const r = this.not();
      l = { sql: `(${truthy(l)} AND ${truthy(r)})`, ty: 'bool' };
    }
    return l;
  }
  private not(): Node {
    if (this.word() === 'NOT' && this.word(1) !== 'EXISTS') {
      this.i++;
      const x = this.not();
      return { sql: `(NOT ${truthy(x)})`, ty: 'bool' };
    }
    return this.equality();
  }

  private equality(): Node {
    let l = this.relational();
    for (;;) {
      const t = this.peek();
      if (!t) return l;
      const w = this.word();
      if (t.kind === 'punct' && ['=', '==', '!=', '<>'].includes(t.text)) {
        this.i++;
        const r = this.relational();
        const [a, b] = unify(l, r);
        l = { sql: `(${a.sql} ${t.text === '=' || t.text === '==' ? '=' : '<>'} ${b.sql})`, ty: 'bool' };
      } else if (w === 'ISNULL' || w === 'NOTNULL') {
        this.i++;
        l = { sql: `(${l.sql} IS ${w === 'NOTNULL' ? 'NOT ' : ''}NULL)`, ty: 'bool' };
      } else if (w === 'IS') {
        this.i++;
        let neg = false;
        if (this.word() === 'NOT') {
          neg = true;
          this.i++;
        }
        if (this.word() === 'DISTINCT') {
          this.i++;
          this.expectWord('FROM');
          neg = !neg;
        }
        if (this.word() === 'NULL') {
          this.i++;
          l = { sql: `(${l.sql} IS ${neg ? 'NOT ' : ''}NULL)`, ty: 'bool' };
        } else {
          const r = this.relational();
          const [a, b] = unify(l, r);
          l = { sql: `(${a.sql} IS ${neg ? '' : 'NOT '}DISTINCT FROM ${b.sql})`, ty: 'bool' };
        }
      } else if (w === 'NOT' && this.word(1) === 'NULL') {
        this.i += 2;
        l = { sql: `(${l.sql} IS NOT NULL)`, ty: 'bool' };
      } else if (w === 'IN' || w === 'LIKE' || w === 'GLOB' || w === 'BETWEEN' || w === 'MATCH' || w === 'REGEXP' ||
        (w === 'NOT' && ['IN', 'LIKE', 'GLOB', 'BETWEEN', 'MATCH', 'REGEXP'].includes(this.word(1)))) {
        const neg = w === 'NOT';
        if (neg) this.i++;
        const op = this.word();
        this.i++;
        l = this.special(l, op, neg);
      } else return l;
    }
  }

  private special(l: Node, op: string, neg: boolean): Node {
    const not = neg ? 'NOT ' : '';
    if (op === 'IN') {
      if (!this.isPunct('(')) fail('IN over a table name');
      this.i++;
      if (this.word() === 'SELECT') fail('IN (SELECT …): subqueries are not allowed in PostgreSQL CHECKs and index predicates');
      const items: Node[] = [];
      if (!this.isPunct(')')) {
        for (;;) {
          items.push(this.or());
          if (this.isPunct(',')) {
            this.i++;
            continue;
          }
          break;
        }
      }
      this.expectPunct(')');
      if (items.length === 0) return { sql: neg ? 'true' : 'false', ty: 'bool' };
      const pairs = items.map((it) => unify(l, it));
      const left = pairs[0]![0].sql;
      return { sql: `(${left} ${not}IN (${pairs.map((p) => p[1].sql).join(', ')}))`, ty: 'bool' };
    }
    if (op === 'BETWEEN') {
      const lo = this.relational();
      this.expectWord('AND');
      const hi = this.relational();
      const [a, b] = unify(l, lo);
      const [a2, c] = unify(l, hi);
      if (a.sql !== a2.sql) fail('BETWEEN bounds of different kinds');
      return { sql: `(${a.sql} ${not}BETWEEN ${b.sql} AND ${c.sql})`, ty: 'bool' };
    }
    if (op === 'MATCH' || op === 'REGEXP') fail(`${op} needs an application-defined function`);
    const pat = this.relational();
    let escape: Node | null = null;
    if (this.word() === 'ESCAPE') {
      this.i++;
      escape = this.relational();
      if (escape.strLit === undefined) fail('ESCAPE with a non-literal');
    }
    if (l.ty !== 'text' && l.ty !== 'null') fail(`${op} on a ${l.ty} value (SQLite matches its text form)`);
    if (op === 'LIKE') {
      if (pat.ty !== 'text' && pat.ty !== 'null') fail('LIKE with a non-text pattern');
      // SQLite's LIKE ignores case (ASCII letters): ILIKE. SQLite has no default escape character, PostgreSQL's is "\".
      if (pat.strLit !== undefined && /[^\x00-\x7f]/.test(pat.strLit))
        this.notes.push('LIKE with non-ASCII letters: SQLite compares them case-sensitively, ILIKE does not');
      const esc = escape ? ` ESCAPE ${escape.sql}` : ` ESCAPE ''`;
      return { sql: `(${l.sql} ${not}ILIKE ${pat.sql}${esc})`, ty: 'bool' };
    }
    // GLOB: case-sensitive; * ? and [..] classes.
    if (escape) fail('GLOB has no ESCAPE');
    if (pat.strLit === undefined) fail('GLOB with a pattern that is not a literal');
    const like = globToLike(pat.strLit);
    if (like !== null) return { sql: `(${l.sql} ${not}LIKE ${pgStringLiteral(like)} ESCAPE '\\')`, ty: 'bool' };
    const re = globToRegex(pat.strLit);
    if (re === null) fail(`GLOB pattern ${pat.sql} cannot be read`);
    return { sql: `(${l.sql} ${neg ? '!~' : '~'} ${pgStringLiteral(re)})`, ty: 'bool' };
  }

  private relational(): Node {
    let l = this.bitwise();
    for (;;) {
      const t = this.peek();
      if (t && t.kind === 'punct' && ['<', '<=', '>', '>='].includes(t.text)) {
        this.i++;
        const r = this.bitwise();
        const [a, b] = unify(l, r);
        if (a.ty === 'bool') fail('ordering comparison on a boolean');
        l = { sql: `(${a.sql} ${t.text} ${b.sql})`, ty: 'bool' };
      } else return l;
    }
  }
  private bitwise(): Node {
    let l = this.additive();
    for (;;) {
      const t = this.peek();
      if (t && t.kind === 'punct' && ['&', '|', '<<', '>>'].includes(t.text)) {
        this.i++;
        const r = this.additive();
        if (l.ty !== 'int' || r.ty !== 'int') fail(`${t.text} on non-integer values`);
        l = { sql: `(${l.sql} ${t.text === '|' ? '|' : t.text} ${r.sql})`, ty: 'int' };
      } else return l;
    }
  }
  private additive(): Node {
    let l = this.multiplicative();
    for (;;) {
      const t = this.peek();
      if (t && t.kind === 'punct' && (t.text === '+' || t.text === '-')) {
        this.i++;
        const r = this.multiplicative();
        l = arith(l, t.text, r);
      } else return l;
    }
  }
  private multiplicative(): Node {
    let l = this.concat();
    for (;;) {
      const t = this.peek();
      if (t && t.kind === 'punct' && (t.text === '*' || t.text === '/' || t.text === '%')) {
        this.i++;
        const r = this.concat();
        l = arith(l, t.text, r);
      } else return l;
    }
  }
  private concat(): Node {
    let l = this.unary();
    for (;;) {
      const t = this.peek();
      if (t && t.kind === 'punct' && t.text === '||') {
        this.i++;
        const r = this.unary();
        const asText = (n: Node) => (n.ty === 'text' || n.ty === 'null' ? n.sql : n.ty === 'int' ? `(${n.sql})::text` : fail(`|| with a ${n.ty} value (its SQLite text form differs)`));
        l = { sql: `(${asText(l)} || ${asText(r)})`, ty: 'text' };
      } else if (t && t.kind === 'punct' && (t.text === '-' && this.peek(1)?.text === '>')) {
        fail('JSON -> operators are not translated');
      } else return l;
    }
  }
  private unary(): Node {
    const t = this.peek();
    if (t && t.kind === 'punct' && (t.text === '-' || t.text === '+' || t.text === '~')) {
      this.i++;
      const x = this.unary();
      if (!isNumeric(x)) fail(`unary ${t.text} on a ${x.ty} value`);
      if (t.text === '~' && x.ty !== 'int') fail('~ on a non-integer');
      const node: Node = { sql: t.text === '+' ? x.sql : `(${t.text}${x.sql})`, ty: x.ty };
      if (t.text === '-' && x.intLit !== undefined) {
        node.intLit = -x.intLit;
        node.sql = node.intLit.toString();
      }
      return node;
    }
    return this.postfix(this.primary());
  }
  private postfix(n: Node): Node {
    while (this.word() === 'COLLATE') {
      this.i++;
      const c = this.peek();
      if (!c) fail('COLLATE without a name');
      this.i++;
      const name = unquoteIdent(c.text).toUpperCase();
      if (name === 'BINARY') n = { ...n, fold: undefined, explicit: true };
      else if (name === 'NOCASE') n = { ...n, fold: 'nocase', explicit: true };
      else if (name === 'RTRIM') n = { ...n, fold: 'rtrim', explicit: true };
      else fail(`COLLATE ${name} is an application-defined collation`);
    }
    return n;
  }

  private primary(): Node {
    const t = this.peek();
    if (!t) fail('unexpected end of expression');
    if (t.kind === 'number') {
      this.i++;
      return numberLiteral(t.text);
    }
    if (t.kind === 'string') {
      this.i++;
      const s = unquoteIdent(t.text);
      return { sql: pgStringLiteral(s), ty: 'text', strLit: s };
    }
    if (t.kind === 'punct') {
      if (t.text === '(') {
        this.i++;
        if (this.word() === 'SELECT') fail('subqueries are not allowed in PostgreSQL CHECKs and index predicates');
        const x = this.or();
        if (this.isPunct(',')) fail('row values are not translated');
        this.expectPunct(')');
        return { ...x, sql: x.sql.startsWith('(') ? x.sql : `(${x.sql})` };
      }
      if (t.text === '?' || t.text === ':' || t.text === '@' || t.text === '$') fail('bound parameters');
      fail(`unexpected "${t.text}"`);
    }
    if (t.kind === 'ident') {
      this.i++;
      return this.columnRef(t, true);
    }
    // word
    const up = t.text.toUpperCase();
    const next = this.peek(1);
    // Blob literal X'…'
    if ((up === 'X') && next && next.kind === 'string' && next.start === t.end) {
      this.i += 2;
      const hex = unquoteIdent(next.text);
      if (!/^([0-9a-fA-F]{2})*$/.test(hex)) fail('malformed blob literal');
      return { sql: `'\\x${hex.toLowerCase()}'::bytea`, ty: 'bytea' };
    }
    if (up === 'NULL') {
      this.i++;
      return { sql: 'NULL', ty: 'null' };
    }
    if (up === 'TRUE' || up === 'FALSE') {
      this.i++;
      return { sql: up === 'TRUE' ? '1' : '0', ty: 'int', intLit: up === 'TRUE' ? 1n : 0n };
    }
    if (up === 'CURRENT_TIMESTAMP' || up === 'CURRENT_DATE' || up === 'CURRENT_TIME') fail(`${up} (the current time is not allowed in PostgreSQL CHECKs and index predicates)`);
    if (up === 'CASE') return this.caseExpr();
    if (up === 'CAST') return this.cast();
    if (up === 'EXISTS' || up === 'SELECT' || (up === 'NOT' && this.word(1) === 'EXISTS')) fail('subqueries are not allowed in PostgreSQL CHECKs and index predicates');
    if (up === 'RAISE') fail('RAISE() is trigger-only');
    if (next && next.kind === 'punct' && next.text === '(') {
      this.i += 2;
      const name = t.text.toLowerCase();
      const args: Node[] = [];
      if (this.word() === 'DISTINCT') fail('aggregate functions');
      if (this.isPunct('*')) fail(`${name}(*)`);
      if (!this.isPunct(')')) {
        for (;;) {
          args.push(this.or());
          if (this.isPunct(',')) {
            this.i++;
            continue;
          }
          break;
        }
      }
      this.expectPunct(')');
      const fn = FUNCTIONS[name];
      if (!fn) fail(`function ${name}() has no exact PostgreSQL equivalent`);
      return fn(args);
    }
    if (KEYWORDS.has(up)) fail(`unexpected ${up}`);
    this.i++;
    return this.columnRef(t, false);
  }

  private columnRef(t: Token, quoted: boolean): Node {
    let name = quoted ? unquoteIdent(t.text) : t.text;
    // table.column
    if (this.isPunct('.')) {
      const tables = (this.ctx.tableNames ?? []).map((x) => x.toLowerCase());
      if (!tables.includes(name.toLowerCase())) fail(`reference to another table "${name}"`);
      this.i++;
      const c = this.peek();
      if (!c || (c.kind !== 'word' && c.kind !== 'ident')) fail('expected a column name after "."');
      this.i++;
      name = c.kind === 'ident' ? unquoteIdent(c.text) : c.text;
    }
    const col = this.ctx.columns.get(name.toLowerCase());
    if (!col) {
      // SQLite reads a double-quoted name that matches no column as a string literal.
      if (quoted && t.text.startsWith('"')) {
        this.notes.push(`"${name}" names no column: SQLite reads it as the string '${name}'`);
        return { sql: pgStringLiteral(name), ty: 'text', strLit: name };
      }
      if (name.toLowerCase() === 'rowid' || name.toLowerCase() === '_rowid_' || name.toLowerCase() === 'oid') fail('rowid has no PostgreSQL equivalent');
      fail(`unknown column "${name}"`);
    }
    const coll = (col.collation ?? '').toUpperCase();
    const ty = pgTypeKind(col.pgType);
    return {
      sql: quotePgIdent(col.target),
      ty,
      column: col.target,
      fold: ty === 'text' && coll === 'NOCASE' ? 'nocase' : ty === 'text' && coll === 'RTRIM' ? 'rtrim' : undefined,
    };
  }

  private caseExpr(): Node {
    this.i++;
    let base: Node | null = null;
    if (this.word() !== 'WHEN') base = this.or();
    const whens: [string, Node][] = [];
    while (this.word() === 'WHEN') {
      this.i++;
      const c = this.or();
      this.expectWord('THEN');
      const v = this.or();
      if (base) {
        const [a, b] = unify(base, c);
        whens.push([`${a.sql} = ${b.sql}`, v]);
      } else whens.push([truthy(c), v]);
    }
    let els: Node | null = null;
    if (this.word() === 'ELSE') {
      this.i++;
      els = this.or();
    }
    this.expectWord('END');
    if (whens.length === 0) fail('CASE without WHEN');
    const vals = [...whens.map((w) => w[1]), ...(els ? [els] : [])];
    const tys = new Set(vals.map((v) => v.ty).filter((x) => x !== 'null'));
    if (tys.size > 1 && !(tys.size === 2 && tys.has('int') && tys.has('num'))) fail('CASE branches of different types');
    const ty = ([...tys][0] ?? 'null') as Ty;
    return {
      sql: `(CASE ${whens.map(([c, v]) => `WHEN ${c} THEN ${v.sql}`).join(' ')}${els ? ` ELSE ${els.sql}` : ''} END)`,
      ty: tys.has('num') ? 'num' : ty,
    };
  }

  private cast(): Node {
    this.i++;
    this.expectPunct('(');
    const x = this.or();
    this.expectWord('AS');
    const words: string[] = [];
    while (this.peek() && !this.isPunct(')')) {
      words.push(this.peek()!.text);
      this.i++;
    }
    this.expectPunct(')');
    const type = words.join(' ').toUpperCase();
    if (/TEXT|CHAR|CLOB/.test(type) && (x.ty === 'text' || x.ty === 'int')) return { sql: `(${x.sql})::text`, ty: 'text' };
    if (/INT/.test(type) && x.ty === 'int') return x;
    if (/REAL|FLOA|DOUB/.test(type) && isNumeric(x)) return { sql: `(${x.sql})::double precision`, ty: 'num' };
    return fail(`CAST(… AS ${type}) of a ${x.ty} value (SQLite's conversions never fail, PostgreSQL's do)`);
  }
}

function numberLiteral(text: string): Node {
  if (/^0x[0-9a-f]+$/i.test(text)) {
    let v = BigInt(text);
    if (v >= 2n ** 63n) v -= 2n ** 64n; // SQLite reads hex literals as 64-bit two's complement
    return { sql: v.toString(), ty: 'int', intLit: v };
  }
  if (/^[0-9]+$/.test(text)) {
    const v = BigInt(text);
    if (v >= 2n ** 63n) return { sql: text, ty: 'num' };
    return { sql: text, ty: 'int', intLit: v };
  }
  if (/^([0-9]+\.?[0-9]*|\.[0-9]+)(e[+-]?[0-9]+)?$/i.test(text)) {
    // SQLite reads these as REAL (double); PostgreSQL's numeric literal compares exactly — say so by typing it.
    return { sql: `${text.startsWith('.') ? '0' + text : text}::double precision`, ty: 'num' };
  }
  return fail(`number ${text}`);
}

function arith(l: Node, op: string, r: Node): Node {
  if (!isNumeric(l) || !isNumeric(r)) fail(`${op} on a ${!isNumeric(l) ? l.ty : r.ty} value (SQLite converts text to numbers)`);
  if (op === '/' && (l.ty === 'int' || r.ty === 'int') && l.ty !== r.ty) {
    // int / double: both engines use floating point. int/int: both truncate. Nothing to do.
  }
  if (op === '%' && (l.ty === 'num' || r.ty === 'num')) fail('% on REAL values (SQLite casts them to integers)');
  return { sql: `(${l.sql} ${op} ${r.sql})`, ty: l.ty === 'num' || r.ty === 'num' ? 'num' : l.ty === 'null' ? r.ty : l.ty };
}

/** Translates a SQLite expression to PostgreSQL; as a condition when `condition` is true (CHECK, WHERE). */
export function translateExpr(sql: string, ctx: ExprContext, opts: { condition?: boolean } = {}): ExprResult {
  try {
    const toks = tokenize(sql);
    if (toks.length === 0) return { ok: false, reason: 'empty expression' };
    const p = new Parser(toks, ctx);
    const n = p.parse();
    const out = opts.condition ? truthy(n) : n.sql;
    return { ok: true, sql: stripOuterParens(out), notes: p.notes };
  } catch (err) {
    if (err instanceof Untranslatable) return { ok: false, reason: err.message };
    return { ok: false, reason: `cannot parse: ${(err as Error).message}` };
  }
}

/** Translates an index key expression; returns its SQL and the column it folds to lower(), if NOCASE. */
export function translateIndexKey(sql: string, ctx: ExprContext): ExprResult {
  const r = translateExpr(sql, ctx);
  if (!r.ok) return r;
  // An index key that is not a bare column must be parenthesised in CREATE INDEX.
  const bare = /^"([^"]|"")*"$/.test(r.sql);
  return { ok: true, sql: bare ? r.sql : `(${r.sql})`, notes: r.notes };
}

function stripOuterParens(s: string): string {
  if (!s.startsWith('(') || !s.endsWith(')')) return s;
  // Only when the outer pair encloses everything.
  let depth = 0;
  let quote: string | null = null;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      if (c === quote) quote = null;
      continue;
    }
    if (c === "'" || c === '"') quote = c;
    else if (c === '(') depth++;
    else if (c === ')') {
      depth--;
      if (depth === 0 && i < s.length - 1) return s;
    }
  }
  return s.slice(1, -1);
}
