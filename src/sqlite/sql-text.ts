// Pure helpers over SQLite's stored CREATE statements (sqlite_schema.sql):
// the pragmas do not expose CHECKs, deferrable flags or collations.

export interface Token {
  kind: 'word' | 'string' | 'ident' | 'punct' | 'number';
  text: string;
  start: number;
  end: number;
}

/** A small SQLite tokenizer: enough to find clauses without being fooled by strings or quoted names. */
export function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '-' && sql[i + 1] === '-') {
      while (i < sql.length && sql[i] !== '\n') i++;
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? sql.length : end + 2;
    } else if (c === "'" || c === '"' || c === '`' || c === '[') {
      const close = c === '[' ? ']' : c;
      let j = i + 1;
      while (j < sql.length) {
        if (sql[j] === close) {
          if (close !== ']' && sql[j + 1] === close) {
            j += 2;
            continue;
          }
          break;
        }
        j++;
      }
      tokens.push({ kind: c === "'" ? 'string' : 'ident', text: sql.slice(i, j + 1), start: i, end: j + 1 });
      i = j + 1;
    } else if (/[A-Za-z_\u0080-\uffff]/.test(c)) {
      let j = i + 1;
      while (j < sql.length && /[A-Za-z0-9_$\u0080-\uffff]/.test(sql[j]!)) j++;
      tokens.push({ kind: 'word', text: sql.slice(i, j), start: i, end: j });
      i = j;
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(sql[i + 1] ?? ''))) {
      let j = i + 1;
      while (j < sql.length && /[0-9A-Za-z_.]/.test(sql[j]!)) {
        if ((sql[j] === 'e' || sql[j] === 'E') && (sql[j + 1] === '+' || sql[j + 1] === '-')) j++;
        j++;
      }
      tokens.push({ kind: 'number', text: sql.slice(i, j), start: i, end: j });
      i = j;
    } else {
      const two = sql.slice(i, i + 2);
      const len = ['<=', '>=', '<>', '!=', '==', '||', '<<', '>>'].includes(two) ? 2 : 1;
      tokens.push({ kind: 'punct', text: sql.slice(i, i + len), start: i, end: i + len });
      i += len;
    }
  }
  return tokens;
}

export function unquoteIdent(text: string): string {
  const c = text[0];
  if (c === '"' || c === '`') return text.slice(1, -1).split(c + c).join(c);
  if (c === '[') return text.slice(1, -1);
  if (c === "'") return text.slice(1, -1).split("''").join("'");
  return text;
}

/** Index of the token closing the parenthesis opened at `open`. */
function matchParen(tokens: Token[], open: number): number {
  let depth = 0;
  for (let k = open; k < tokens.length; k++) {
    if (tokens[k]!.text === '(') depth++;
    else if (tokens[k]!.text === ')') {
      depth--;
      if (depth === 0) return k;
    }
  }
  return tokens.length - 1;
}

/** The comma-separated items between the parentheses at `open` and `close` (nested ones kept whole). */
function splitTopLevel(tokens: Token[], open: number, close: number): Token[][] {
  const items: Token[][] = [];
  let current: Token[] = [];
  let depth = 0;
  for (let k = open + 1; k < close; k++) {
    const t = tokens[k]!;
    if (t.text === '(') depth++;
    if (t.text === ')') depth--;
    if (t.text === ',' && depth === 0) {
      items.push(current);
      current = [];
    } else current.push(t);
  }
  if (current.length) items.push(current);
  return items;
}

export interface ParsedCheck {
  name: string | null;
  /** The column it was declared on, or null for a table constraint. */
  column: string | null;
  expr: string;
}

export interface ParsedColumnDef {
  name: string;
  collation: string | null;
}

export interface ParsedTable {
  checks: ParsedCheck[];
  columns: ParsedColumnDef[];
  /** FK constraint names and deferrable flags, in declaration order. */
  foreignKeys: { name: string | null; refTable: string; deferrable: boolean }[];
}

const TABLE_CONSTRAINT_START = new Set(['CONSTRAINT', 'PRIMARY', 'UNIQUE', 'CHECK', 'FOREIGN']);

/** Splits the body of CREATE TABLE (...) into column definitions and table constraints. */
export function parseCreateTable(sql: string): ParsedTable {
  const tokens = tokenize(sql);
  const result: ParsedTable = { checks: [], columns: [], foreignKeys: [] };
  const open = tokens.findIndex((t) => t.text === '(');
  if (open < 0) return result;
  const close = matchParen(tokens, open);
  const items = splitTopLevel(tokens, open, close);

  for (const item of items) {
    const first = item[0];
    if (!first) continue;
    const isConstraint = first.kind === 'word' && TABLE_CONSTRAINT_START.has(first.text.toUpperCase());
    const column = isConstraint ? null : unquoteIdent(first.text);
    if (column !== null) result.columns.push({ name: column, collation: null });
    let pendingName: string | null = null;
    for (let k = isConstraint ? 0 : 1; k < item.length; k++) {
      const t = item[k]!;
      const up = t.kind === 'word' ? t.text.toUpperCase() : '';
      if (up === 'CONSTRAINT' && item[k + 1]) {
        pendingName = unquoteIdent(item[k + 1]!.text);
        k++;
      } else if (up === 'CHECK' && item[k + 1]?.text === '(') {
        const openIdx = k + 1;
        let d = 0;
        let end = openIdx;
        for (let m = openIdx; m < item.length; m++) {
          if (item[m]!.text === '(') d++;
          if (item[m]!.text === ')') {
            d--;
            if (d === 0) {
              end = m;
              break;
            }
          }
        }
        const expr = sql.slice(item[openIdx]!.end, item[end]!.start).trim();
        result.checks.push({ name: pendingName, column, expr });
        pendingName = null;
        k = end;
      } else if (up === 'COLLATE' && item[k + 1] && column !== null) {
        result.columns[result.columns.length - 1]!.collation = unquoteIdent(item[k + 1]!.text);
        k++;
      } else if (up === 'REFERENCES') {
        // Deferrable flag belongs to this FK clause: look ahead to the end of the clause.
        let deferrable = false;
        for (let m = k + 1; m < item.length; m++) {
          const w = item[m]!.text.toUpperCase();
          if (w === 'CONSTRAINT' || w === 'CHECK' || w === 'COLLATE') break;
          if (w === 'DEFERRABLE' && item[m - 1]?.text.toUpperCase() !== 'NOT') {
            deferrable = item[m + 1]?.text.toUpperCase() === 'INITIALLY' && item[m + 2]?.text.toUpperCase() === 'DEFERRED';
          }
        }
        result.foreignKeys.push({ name: pendingName, refTable: unquoteIdent(item[k + 1]?.text ?? ''), deferrable });
        pendingName = null;
      } else if (up === 'PRIMARY' || up === 'UNIQUE' || up === 'NOT' || up === 'DEFAULT' || up === 'GENERATED' || up === 'FOREIGN') {
        if (up !== 'FOREIGN') pendingName = null;
      }
    }
  }
  return result;
}

/** The WHERE clause of a CREATE INDEX statement (partial index), or null. */
export function partialIndexWhere(sql: string | null): string | null {
  if (!sql) return null;
  const tokens = tokenize(sql);
  let depth = 0;
  for (const t of tokens) {
    if (t.text === '(') depth++;
    else if (t.text === ')') depth--;
    else if (depth === 0 && t.kind === 'word' && t.text.toUpperCase() === 'WHERE') return sql.slice(t.end).trim().replace(/;\s*$/, '');
  }
  return null;
}

export interface ParsedIndexKey {
  /** The key's SQL text without COLLATE/ASC/DESC. */
  expr: string;
  collation: string | null;
  desc: boolean;
}

/** The key list of CREATE [UNIQUE] INDEX … ON t (k1 [COLLATE c] [ASC|DESC], …), or null. */
export function parseIndexKeys(sql: string | null): ParsedIndexKey[] | null {
  if (!sql) return null;
  const tokens = tokenize(sql);
  const on = tokens.findIndex((t) => t.kind === 'word' && t.text.toUpperCase() === 'ON');
  if (on < 0) return null;
  const open = tokens.findIndex((t, k) => k > on && t.text === '(');
  if (open < 0) return null;
  const close = matchParen(tokens, open);
  const items = splitTopLevel(tokens, open, close);
  return items.map((item) => {
    let end = item.length;
    let desc = false;
    let collation: string | null = null;
    const up = (k: number) => (item[k]?.kind === 'word' ? item[k]!.text.toUpperCase() : '');
    if (up(end - 1) === 'DESC' || up(end - 1) === 'ASC') {
      desc = up(end - 1) === 'DESC';
      end--;
    }
    if (end >= 2 && up(end - 2) === 'COLLATE') {
      collation = unquoteIdent(item[end - 1]!.text);
      end -= 2;
    }
    const expr = end > 0 ? sql.slice(item[0]!.start, item[end - 1]!.end).trim() : '';
    return { expr, collation, desc };
  });
}

/** CREATE VIEW name [(columns)] AS select: the parts, or null. */
export function parseCreateView(sql: string): { columns: string[] | null; select: string } | null {
  const tokens = tokenize(sql);
  const as = tokens.findIndex((t) => t.kind === 'word' && t.text.toUpperCase() === 'AS');
  if (as < 0) return null;
  let columns: string[] | null = null;
  const open = tokens.findIndex((t, k) => k < as && t.text === '(');
  if (open >= 0) {
    const close = matchParen(tokens, open);
    columns = tokens.slice(open + 1, close).filter((t) => t.text !== ',').map((t) => unquoteIdent(t.text));
  }
  return { columns, select: sql.slice(tokens[as]!.end).trim().replace(/;\s*$/, '') };
}
