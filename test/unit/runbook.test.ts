// Every failure type the code can put into a workflow history has an entry in
// docs/runbook.md: on-call looks the `type` up and finds what to do.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.join(__dirname, '..', '..');
const SCANNED = ['src', 'activities', 'workflows'];
const RUNBOOK = path.join(ROOT, 'docs', 'runbook.md');

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (/\.(ts|js|mts|cts)$/.test(name) && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** The text of a call starting at `open` (index of its "("), up to the matching ")". */
function callText(src: string, open: number): string {
  let depth = 0;
  for (let i = open; i < src.length; i++) {
    const c = src[i];
    if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return src.slice(open, i + 1);
  }
  return src.slice(open);
}

/** FailureType values: `Key: 'Value'` inside `export const FailureType = { … }`. */
export function failureTypeValues(errorsTs: string): Map<string, string> {
  const body = errorsTs.match(/export const FailureType\s*=\s*\{([\s\S]*?)\}/)?.[1] ?? '';
  const out = new Map<string, string>();
  for (const m of body.matchAll(/(\w+)\s*:\s*['"]([^'"]+)['"]/g)) out.set(m[1]!, m[2]!);
  return out;
}

/**
 * Failure types raised in one file: `type: '…'` / `type: FailureType.X` in
 * ApplicationFailure.create/retryable/nonRetryable/fromError calls, the type
 * argument of `ApplicationFailure.nonRetryable(msg, 'T')`, our `nonRetryable(FailureType.X, …)`,
 * literals listed in `nonRetryableErrorTypes`, and a workflow's fallback type (`.type ?? 'T'`).
 */
export function raisedTypes(src: string, enumValues: Map<string, string>): Set<string> {
  const found = new Set<string>();
  const resolve = (expr: string) => {
    const lit = expr.match(/^['"`]([^'"`$]+)['"`]$/);
    if (lit) return found.add(lit[1]!);
    const en = expr.match(/^FailureType\.(\w+)$/);
    if (en) found.add(enumValues.get(en[1]!) ?? `FailureType.${en[1]}`);
  };
  for (const m of src.matchAll(/ApplicationFailure\s*\.\s*(create|retryable|nonRetryable|fromError)\s*\(/g)) {
    const call = callText(src, m.index! + m[0].length - 1);
    for (const t of call.matchAll(/\btype\s*:\s*([^,}\s]+)/g)) resolve(t[1]!);
    if (m[1] === 'retryable' || m[1] === 'nonRetryable') {
      // (message, type, ...details): the second top-level argument.
      const args = splitTopLevel(call.slice(1, -1));
      if (args[1]) resolve(args[1].trim());
    }
  }
  for (const m of src.matchAll(/(?<![.\w])nonRetryable\s*\(\s*(FailureType\.\w+|['"][^'"]+['"])/g)) resolve(m[1]!);
  for (const m of src.matchAll(/nonRetryableErrorTypes\s*:\s*\[([^\]]*)\]/g)) {
    for (const lit of m[1]!.matchAll(/['"]([^'"]+)['"]/g)) found.add(lit[1]!);
  }
  for (const m of src.matchAll(/\.type\s*\?\?\s*['"]([A-Z]\w+)['"]/g)) found.add(m[1]!);
  return found;
}

function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      if (c === '\\') {
        cur += c + (s[++i] ?? '');
        continue;
      }
      if (c === quote) quote = null;
    } else if (c === "'" || c === '"' || c === '`') quote = c;
    else if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c)) depth--;
    else if (c === ',' && depth === 0) {
      out.push(cur);
      cur = '';
      continue;
    }
    cur += c;
  }
  if (cur.trim()) out.push(cur);
  return out;
}

/** Types documented in the runbook: named in a heading, or as inline code (`Type`). */
export function documentedTypes(markdown: string): Set<string> {
  const out = new Set<string>();
  const withoutFences = markdown.replace(/```[\s\S]*?```/g, '');
  for (const line of withoutFences.split('\n')) {
    if (/^#{1,6}\s/.test(line)) for (const w of line.matchAll(/[A-Za-z][A-Za-z0-9_]*/g)) out.add(w[0]);
  }
  for (const m of withoutFences.matchAll(/`([^`\n]+)`/g)) out.add(m[1]!.trim());
  return out;
}

export function missingFromRunbook(types: Iterable<string>, markdown: string): string[] {
  const documented = documentedTypes(markdown);
  return [...types].filter((t) => !documented.has(t)).sort();
}

function allRaisedTypes(): Map<string, string[]> {
  const enumValues = failureTypeValues(readFileSync(path.join(ROOT, 'src', 'errors.ts'), 'utf8'));
  const where = new Map<string, string[]>();
  for (const v of enumValues.values()) where.set(v, ['src/errors.ts']);
  for (const dir of SCANNED) {
    for (const file of sourceFiles(path.join(ROOT, dir))) {
      for (const t of raisedTypes(readFileSync(file, 'utf8'), enumValues)) {
        where.set(t, [...(where.get(t) ?? []), path.relative(ROOT, file)]);
      }
    }
  }
  return where;
}

describe('docs/runbook.md covers every failure type', () => {
  const raised = allRaisedTypes();

  it('the scanner finds the failure types (it is not vacuous)', () => {
    const enumValues = failureTypeValues(readFileSync(path.join(ROOT, 'src', 'errors.ts'), 'utf8'));
    expect(enumValues.size).toBeGreaterThanOrEqual(5);
    for (const v of enumValues.values()) expect(raised.has(v)).toBe(true);
    // Literal types raised directly by activities, outside FailureType.
    expect(raised.has('CopyError')).toBe(true);
    expect(raised.has('TransientCopyError')).toBe(true);
  });

  it('each type appears as a heading or as code in the runbook', () => {
    const missing = missingFromRunbook(raised.keys(), readFileSync(RUNBOOK, 'utf8'));
    const detail = missing.map((t) => `${t} (raised in ${[...new Set(raised.get(t))].join(', ')})`).join('; ');
    expect(missing, `add a section for each of these failure types to docs/runbook.md: ${detail}`).toEqual([]);
  });

  it('fails for a type the runbook does not mention', () => {
    const src = `throw ApplicationFailure.create({ message: 'x', type: 'DiskOnFire', nonRetryable: true });
      throw ApplicationFailure.nonRetryable('y', 'GremlinsFound');
      throw nonRetryable(FailureType.Foo, 'z');`;
    const types = raisedTypes(src, new Map([['Foo', 'FooHappened']]));
    expect([...types].sort()).toEqual(['DiskOnFire', 'FooHappened', 'GremlinsFound']);
    const md = '# Runbook\n## `DiskOnFire`\nprose mentioning GremlinsFound without code\n```\nFooHappened in a fence\n```\n';
    expect(missingFromRunbook(types, md)).toEqual(['FooHappened', 'GremlinsFound']);
  });
});
