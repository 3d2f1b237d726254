// The final summary an operator pastes into a ticket.
import type { MigrationReport } from '../types';

function pad(s: string, n: number, right = false): string {
  return right ? s.padStart(n) : s.padEnd(n);
}

export function formatReport(r: MigrationReport): string {
  const rows = r.tables.map((t) => [t.table, String(t.sourceRows), String(t.targetRows), String(t.rejectedRows), t.seconds.toFixed(1), t.ok ? 'ok' : 'FAILED']);
  const head = ['table', 'source rows', 'target rows', 'rejects', 'seconds', 'check'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => pad(c, widths[i]!, i > 0 && i < 5)).join('  ');
  const out: string[] = [];
  out.push(line(head), widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) out.push(line(row));
  out.push(widths.map((w) => '-'.repeat(w)).join('  '));
  out.push(line(['total', '', String(r.totals.rows), String(r.totals.rejects), r.totals.seconds.toFixed(1), r.status === 'succeeded' ? 'ok' : 'FAILED']));
  out.push('');
  out.push('phase         seconds');
  for (const p of r.phases) out.push(`${pad(p.phase, 12)}  ${p.seconds.toFixed(1).padStart(7)}`);
  for (const t of r.tables.filter((x) => !x.ok)) out.push(`! ${t.table}: ${t.problems.join('; ')}`);
  if (r.skipped.length) {
    out.push('');
    out.push('not migrated:');
    for (const s of r.skipped) out.push(`  ${s.kind} ${s.name}: ${s.reason}`);
  }
  if (r.warnings.length) {
    out.push('');
    out.push('warnings:');
    for (const w of r.warnings) out.push(`  ${w}`);
  }
  return out.join('\n');
}
