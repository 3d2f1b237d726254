// Pure, workflow-safe: how a table's content is compared. No Node imports here.
import type { KeyPlan } from '../types';

/**
 * "chunk": per chunk, by key range (the key has target columns).
 * "table": the whole table by content — a rowid table whose rowid is not a column
 * (no INTEGER PRIMARY KEY alias) has no key in the target.
 */
export function checksumMode(key: KeyPlan): 'chunk' | 'table' {
  return key.kind === 'rowid' && !key.display ? 'table' : 'chunk';
}

export type ValidationMode = 'count' | 'checksum';
