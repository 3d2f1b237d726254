import { describe, expect, it } from 'vitest';
import { translateExpr, translateIndexKey, type ExprColumn } from '../../src/plan/expr';

const cols = new Map<string, ExprColumn>([
  ['price', { target: 'price', pgType: 'double precision' }],
  ['qty', { target: 'qty', pgType: 'bigint' }],
  ['name', { target: 'name', pgType: 'text' }],
  ['code', { target: 'code', pgType: 'text', collation: 'NOCASE' }],
  ['pad', { target: 'pad', pgType: 'text', collation: 'RTRIM' }],
  ['active', { target: 'active', pgType: 'boolean' }],
  ['select', { target: 'select', pgType: 'text' }],
  ['mixedcase', { target: 'MixedCase', pgType: 'bigint' }],
  ['data', { target: 'data', pgType: 'bytea' }],
  ['doc', { target: 'doc', pgType: 'jsonb' }],
]);
const ctx = { columns: cols, tableNames: ['items'] };
const ok = (sql: string) => {
  const r = translateExpr(sql, ctx, { condition: true });
  if (!r.ok) throw new Error(`expected ok for ${sql}: ${r.reason}`);
  return r.sql;
};
const no = (sql: string) => {
  const r = translateExpr(sql, ctx, { condition: true });
  expect(r.ok, sql).toBe(false);
  return r.ok ? '' : r.reason;
};

describe('translateExpr: portable CHECK expressions', () => {
  it.each([
    ['price > 0', '"price" > 0'],
    ['price >= 0.5', '"price" >= 0.5::double precision'],
    ['qty BETWEEN 1 AND 10', '"qty" BETWEEN 1 AND 10'],
    ['qty NOT BETWEEN -5 AND 5', '"qty" NOT BETWEEN -5 AND 5'],
    ["name IN ('a', 'b''c')", `"name" IN ('a', 'b''c')`],
    ["name NOT IN ('x')", `"name" NOT IN ('x')`],
    ['name IS NOT NULL', '"name" IS NOT NULL'],
    ['name NOTNULL', '"name" IS NOT NULL'],
    ['name ISNULL', '"name" IS NULL'],
    ['name NOT NULL', '"name" IS NOT NULL'],
    ['name IS NULL OR length(name) > 0', '("name" IS NULL) OR (length("name") > 0)'],
    ['length(trim(name)) > 0', 'length(btrim("name")) > 0'],
    ['"select" <> \'\'', `"select" <> ''`],
    ['[select] == \'x\'', `"select" = 'x'`],
    ['`select` != \'x\'', `"select" <> 'x'`],
    ['MixedCase > 0', '"MixedCase" > 0'],
    ['items.qty > 0', '"qty" > 0'],
    ["name LIKE 'a%'", `"name" ILIKE 'a%' ESCAPE ''`],
    ["name LIKE 'a!%' ESCAPE '!'", `"name" ILIKE 'a!%' ESCAPE '!'`],
    ["name NOT LIKE '%x'", `"name" NOT ILIKE '%x' ESCAPE ''`],
    ["name GLOB 'ab*c?'", `"name" LIKE 'ab%c_' ESCAPE '\\'`],
    ["name GLOB '*_%'", `"name" LIKE '%\\_\\%' ESCAPE '\\'`],
    ["name GLOB '[0-9]*'", `"name" ~ '^[0-9].*$'`],
    ["name NOT GLOB '[^a-z]'", `"name" !~ '^[^a-z]$'`],
    ["name || 'x' = 'ax'", `("name" || 'x') = 'ax'`],
    ['abs(qty) < 100', 'abs("qty") < 100'],
    ["lower(name) = name", 'lower("name") = "name"'],
    ["upper(name) <> ''", `upper("name") <> ''`],
    ["coalesce(name, '') <> ''", `coalesce("name", '') <> ''`],
    ["ifnull(qty, 0) >= 0", 'coalesce("qty", 0) >= 0'],
    ['NOT (qty < 0)', 'NOT ("qty" < 0)'],
    ['qty > 0 AND (price > 0 OR price IS NULL)', '("qty" > 0) AND (("price" > 0) OR ("price" IS NULL))'],
    ['qty', '"qty" <> 0'],
    ['qty % 2 = 0', '("qty" % 2) = 0'],
    ['qty * 2 + 1 > -3', '(("qty" * 2) + 1) > -3'],
    ['qty = 0x10', '"qty" = 16'],
    ['qty IS 5', '"qty" IS NOT DISTINCT FROM 5'],
    ['qty IS NOT 5', '"qty" IS DISTINCT FROM 5'],
    ["CASE WHEN qty > 0 THEN name ELSE 'none' END <> ''", `(CASE WHEN ("qty" > 0) THEN "name" ELSE 'none' END) <> ''`],
    ["substr(name, 1, 2) = 'ab'", `substr("name", 1, 2) = 'ab'`],
    ["instr(name, '@') > 1", `strpos("name", '@') > 1`],
    ["length(data) <= 16", 'length("data") <= 16'],
    ["data IS NOT x'00ff'", `"data" IS DISTINCT FROM '\\x00ff'::bytea`],
    ["name = 'a' COLLATE NOCASE", `lower("name") = lower('a')`],
    ["code IN ('a', 'b')", `lower("code") IN (lower('a'), lower('b'))`],
    ["code = 'X'", `lower("code") = lower('X')`],
    ["code = 'X' COLLATE BINARY", `"code" = 'X'`],
    ["pad = 'a'", `rtrim("pad", ' ') = rtrim('a', ' ')`],
    ['active IN (0, 1)', '"active" IN (false, true)'],
    ['active = 1 OR active = 0', '("active" = true) OR ("active" = false)'],
    ['active', '"active"'],
    ['NOT active', 'NOT "active"'],
    ['qty > 0 AND TRUE', '("qty" > 0) AND (1 <> 0)'],
    ['"name" <> "unknown_word"', `"name" <> 'unknown_word'`],
  ])('%s → %s', (src, pg) => {
    expect(ok(src)).toBe(pg);
  });
});

describe('translateExpr: not portable', () => {
  it.each([
    ["typeof(qty) = 'integer'", /typeof/],
    ["qty > '5'", /text value is compared with a number/],
    ["name > 5", /compared with a number/],
    ['qty IN (SELECT 1)', /subqueries/],
    ['EXISTS (SELECT 1)', /subqueries/],
    ["name REGEXP 'a'", /REGEXP/],
    ["date(name) > '2020'", /date\(\)/],
    ['qty > other', /unknown column/],
    ['t2.qty > 0', /another table/],
    ["json_valid(doc)", /json_valid/],
    ['active = 2', /not 0 or 1/],
    ["active IN ('Y', 'N')", /not 0 or 1/],
    ['name', /used as a condition/],
    ["name = 'a' COLLATE my_coll", /application-defined/],
    ['min(qty, 5) > 0', /min\(\)/],
    ['qty > ?', /parameters/],
    ["substr(name, -2) = 'ab'", /positive integer literal/],
    ['CAST(name AS INTEGER) > 0', /CAST/],
    ['rowid > 0', /rowid/],
    ['qty >', /end of expression/],
    ['qty > 0 0', /cannot parse/],
    ["price % 2 = 0", /REAL/],
    ["name || price = 'x'", /\|\|/],
  ])('%s', (src, re) => {
    expect(no(src)).toMatch(re);
  });

  it('never throws on garbage', () => {
    for (const s of ['(', ')', "'", 'CASE', 'CASE WHEN', 'a IN (', 'x BETWEEN 1', ',,,', 'NOT', '--', '/*']) {
      const r = translateExpr(s, ctx, { condition: true });
      expect(r.ok, s).toBe(false);
    }
  });
});

describe('translateIndexKey', () => {
  it('parenthesises expressions, keeps bare columns', () => {
    expect(translateIndexKey('lower(name)', ctx)).toMatchObject({ ok: true, sql: '(lower("name"))' });
    expect(translateIndexKey('"name"', ctx)).toMatchObject({ ok: true, sql: '"name"' });
    expect(translateIndexKey('qty + 1', ctx)).toMatchObject({ ok: true, sql: '("qty" + 1)' });
    expect(translateIndexKey("json_extract(doc, '$.a')", ctx).ok).toBe(false);
  });
});
