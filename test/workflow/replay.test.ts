// Replays recorded histories of real runs against today's workflow code: a
// change that would break a running migration fails here (use patched()).
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { HISTORIES_DIR } from '../helpers/histories';

const root = path.join(__dirname, '..', '..');

describe('replay of recorded histories', () => {
  it('replays every recorded history without nondeterminism', async () => {
    const files = readdirSync(HISTORIES_DIR).filter((f) => f.endsWith('.json')).sort();
    // success, validation failure with rollback, preflight failures at least.
    expect(files.length).toBeGreaterThanOrEqual(3);
    const { stdout } = await promisify(execFile)(process.execPath, ['--require', 'tsx/cjs', path.join(root, 'scripts', 'replay-histories.ts'), HISTORIES_DIR], {
      cwd: root,
    }).catch((err: { stdout?: string; stderr?: string }) => {
      throw new Error(`replay failed:\n${err.stdout ?? ''}${err.stderr ?? ''}`);
    });
    expect(stdout.trim().split('\n')).toEqual(files.map((f) => `ok ${f}`));
  });
});
