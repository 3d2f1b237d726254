// A table's value profile gathered in parts: each batch of the copy profiles the rows it read, and
// each chunk's checkpoint stores the sum of its batches (cutover.chunks.source_profile, committed
// with the rows). Every fact is a count, a min or a max, so the parts of all chunks merge into
// exactly what one scan of the table (profileTable) reports.
import type { ColumnProfile } from './types';
import { Acc, finish, mergeAcc } from './profile';

/** Acc as JSON: the integer bounds as decimal strings (64-bit). */
export type AccJson = Omit<Acc, 'minI' | 'maxI'> & { minI: string | null; maxI: string | null };

/** What a chunk stores: the rows it read and one part per column, in the plan's column order. */
export interface ProfilePart {
  rows: number;
  columns: AccJson[];
}

export function accToJson(a: Acc): AccJson {
  return { ...a, minI: a.minI === null ? null : a.minI.toString(), maxI: a.maxI === null ? null : a.maxI.toString() };
}

export function accFromJson(j: AccJson): Acc {
  const a = Object.assign(new Acc(), j) as unknown as Acc;
  a.minI = j.minI === null ? null : BigInt(j.minI);
  a.maxI = j.maxI === null ? null : BigInt(j.maxI);
  return a;
}

/** `stored` (a chunk's part so far, or null) plus one batch's facts (`rows` rows). */
export function addToPart(stored: ProfilePart | null, rows: number, batch: Acc[]): ProfilePart {
  if (stored && stored.columns.length !== batch.length) {
    throw new Error(`profile part has ${stored.columns.length} columns, the batch ${batch.length}`);
  }
  const columns = batch.map((b, i) => {
    const a = stored ? accFromJson(stored.columns[i]!) : new Acc();
    mergeAcc(a, b);
    return accToJson(a);
  });
  return { rows: (stored?.rows ?? 0) + rows, columns };
}

/** The profiles of the table's columns from every chunk's part (column names in part order). */
export function profileFromParts(names: string[], parts: ProfilePart[]): Record<string, ColumnProfile> {
  const accs = names.map(() => new Acc());
  let rows = 0;
  for (const p of parts) {
    if (p.columns.length !== names.length) throw new Error(`profile part has ${p.columns.length} columns, the table ${names.length}`);
    rows += p.rows;
    p.columns.forEach((c, i) => mergeAcc(accs[i]!, accFromJson(c)));
  }
  const out: Record<string, ColumnProfile> = {};
  names.forEach((n, i) => {
    out[n] = finish(rows, accs[i]!);
  });
  return out;
}
