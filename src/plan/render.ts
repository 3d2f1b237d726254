// `cutover plan`: the plan as text for a terminal — every mapping with its
// reason, warnings and suggestions (with the --map that applies each). Pure.
import type { ColumnPlan, ConverterSpec, MigrationPlan, TablePlan } from '../types';

function converterText(c: ConverterSpec): string {
  switch (c.kind) {
    case 'integer':
      return `integer${c.bits}`;
    case 'numeric':
      return c.precision !== undefined ? `numeric(${c.precision},${c.scale ?? 0})` : 'numeric';
    case 'text':
      return c.maxLength !== undefined ? `text≤${c.maxLength}` : 'text';
    case 'epoch':
      return `epoch:${c.unit}${c.tz ? ' tz' : ''}`;
    default:
      return c.kind;
  }
}

/** Lays out rows as columns, each as wide as its widest cell. */
function table(header: string[], rows: string[][], indent = '  '): string[] {
  const widths = header.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i] ?? ''))));
  const line = (cells: string[]) => indent + cells.map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat(widths[i]! - width(c)))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '─'.repeat(w))), ...rows.map(line)];
}

function width(s: string): number {
  return [...s].length;
}

function name(source: string, target: string): string {
  return source === target ? source : `${source} → ${target}`;
}

function columnRow(c: ColumnPlan): string[] {
  const flags = [c.notNull ? 'NOT NULL' : '', c.identity ? 'identity' : '', c.generated ? 'generated' : '', c.defaultSql !== null ? `DEFAULT ${c.defaultSql}` : '']
    .filter(Boolean)
    .join(', ');
  return [name(c.source, c.target), c.declaredType || '(none)', c.pgType, converterText(c.converter), flags, c.reason];
}

function renderTable(t: TablePlan, out: string[]): void {
  const extras = [t.withoutRowid ? 'WITHOUT ROWID' : '', t.strict ? 'STRICT' : '', t.sqliteSequence !== null ? `AUTOINCREMENT (sqlite_sequence ${t.sqliteSequence})` : '']
    .filter(Boolean)
    .join(', ');
  out.push(`Table ${name(t.source, t.target)} — ${t.rowCount} row(s)${extras ? `, ${extras}` : ''}`);
  out.push(...table(['column', 'declared', 'PostgreSQL', 'converter', 'constraints', 'why'], t.columns.map(columnRow)));
  if (t.primaryKey) out.push(`  primary key (${t.primaryKey.join(', ')})${t.pkName ? ` as ${t.pkName}` : ''}`);
  out.push(`  read by ${t.key.kind === 'rowid' ? `rowid${t.key.display ? ` (${t.key.display.join(', ')})` : ''}` : `key (${t.key.columns.join(', ')})`}`);
  t.uniques.forEach((u, i) => out.push(`  unique (${u.join(', ')})${t.uniqueNames?.[i] ? ` as ${t.uniqueNames[i]}` : ''}`));
  for (const ix of t.indexes) {
    const keys = ix.keys ? ix.keys.join(', ') : ix.columns.join(', ');
    out.push(`  ${ix.unique ? 'unique ' : ''}index ${name(ix.name, ix.targetName)} (${keys})${ix.whereSql ? ` WHERE ${ix.whereSql}` : ''}${ix.notes?.length ? ` — ${ix.notes.join('; ')}` : ''}`);
  }
  for (const ck of t.checks) {
    if (ck.pgSql !== null) out.push(`  check ${ck.name}: CHECK (${ck.pgSql})${ck.sourceSql !== ck.pgSql ? `   ← SQLite: ${ck.sourceSql}` : ''}${ck.reason ? ` — ${ck.reason}` : ''}`);
    else out.push(`  check ${ck.name}: NOT CREATED — ${ck.reason ?? 'not portable'}: CHECK (${ck.sourceSql})`);
  }
  for (const fk of t.foreignKeys) {
    const actions = [fk.onDelete !== 'NO ACTION' ? `ON DELETE ${fk.onDelete}` : '', fk.onUpdate !== 'NO ACTION' ? `ON UPDATE ${fk.onUpdate}` : '', fk.deferrable ? 'DEFERRABLE INITIALLY DEFERRED' : '']
      .filter(Boolean)
      .join(' ');
    const orphans = fk.orphans ? ` — ${fk.orphans.count} orphan row(s), policy ${fk.orphans.policy}, e.g. ${fk.orphans.examples.join('; ')}` : '';
    out.push(`  foreign key ${fk.name} (${fk.columns.join(', ')}) → ${fk.refTable}(${fk.refColumns.join(', ') || 'primary key'})${actions ? ` ${actions}` : ''}${orphans}`);
  }
  const notes: string[] = [];
  for (const c of t.columns) {
    for (const w of c.warnings) notes.push(`  ! ${c.source}: ${w}`);
    for (const s of c.suggestions) notes.push(`  ? ${c.source}: ${s}`);
  }
  for (const w of t.warnings) notes.push(`  ! ${w}`);
  out.push(...notes);
  out.push('');
}

export function renderPlan(plan: MigrationPlan): string {
  const out: string[] = [];
  const rows = plan.tables.reduce((s, t) => s + t.rowCount, 0);
  out.push(`Plan for ${plan.source} → schema "${plan.targetSchema}": ${plan.tables.length} table(s), ${rows} row(s)${plan.identifiers && plan.identifiers !== 'keep' ? `, identifiers ${plan.identifiers}` : ''}`);
  out.push('');
  for (const t of plan.tables) renderTable(t, out);
  const views = plan.views ?? [];
  if (views.length) {
    out.push('Views created after the data:');
    for (const v of views) out.push(`  ${name(v.name, v.target)}: ${v.pgSql}`);
    out.push('');
  }
  if (plan.skipped.length) {
    out.push('Not migrated (recreate in PostgreSQL if needed):');
    for (const s of plan.skipped) {
      out.push(`  ${s.kind} ${s.name}: ${s.reason}`);
      if (s.sql) out.push(...s.sql.split('\n').map((l) => `      ${l}`));
    }
    out.push('');
  }
  if (plan.warnings.length) {
    out.push('Warnings:');
    for (const w of plan.warnings) out.push(`  ! ${w}`);
    out.push('');
  }
  const suggestions = plan.tables.flatMap((t) => t.columns.filter((c) => c.suggestions.length > 0).map((c) => `${t.source}.${c.source}`));
  out.push(
    suggestions.length
      ? `${suggestions.length} column(s) have suggestions (?): apply them all with --infer, or one with --map table.column=type.`
      : 'No suggestions.',
  );
  return out.join('\n') + '\n';
}
