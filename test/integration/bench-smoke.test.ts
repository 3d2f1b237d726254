/**
 * A small smoke run of the benchmark (bench/run.ts): scale 0.005, one run, the cutover and raw
 * pipe contenders (pgloader only when installed), against the test PostgreSQL and the test
 * Temporal server. It checks that the side-by-side table is produced with positive figures, not
 * the issue-6 targets (those need `npm run bench -- --scale 1,3 --runs 3` on a quiet machine).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { formatResult, runBench } from '../../bench/run';

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
const tools = has('sqlite3') && has('psql');
if (!tools) console.warn('SKIPPING test/integration/bench-smoke.test.ts: the raw pipe needs sqlite3 and psql on PATH.');

const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cutover-bench-smoke-'));
afterAll(() => fs.rmSync(cacheDir, { recursive: true, force: true }));

describe.skipIf(!tools)('npm run bench (smoke)', () => {
  it('prints the side-by-side table with positive figures', async () => {
    const only = ['cutover', 'pipe', ...(has('pgloader') ? ['pgloader'] : [])];
    const result = await runBench({
      scales: [0.005],
      runs: 1,
      only,
      validation: ['count'],
      url: inject('pgUrl'),
      temporalAddress: inject('temporalAddress'),
      temporalNamespace: inject('temporalNamespace'),
      cacheDir,
      log: () => undefined,
    });
    const scale = result.scales[0]!;
    expect(scale.rows).toBeGreaterThan(10_000);
    const labels = scale.contenders.map((c) => c.kind);
    expect(labels).toEqual(expect.arrayContaining(['cutover', 'pipe', 'pipe-idx']));
    for (const c of scale.contenders) {
      expect(c.ok, `${c.label}: ${c.runs.map((r) => r.note).join('; ')}`).toBe(true);
      expect(c.wallS).toBeGreaterThan(0);
      expect(c.rowsPerS).toBeGreaterThan(0);
      expect(c.mbPerS).toBeGreaterThan(0);
      expect(c.peakRssBytes ?? 0).toBeGreaterThan(0);
    }
    const cutover = scale.contenders.find((c) => c.kind === 'cutover')!;
    expect(cutover.inRunS).toBeGreaterThan(0);
    expect(Object.keys(cutover.phases)).toEqual(expect.arrayContaining(['copy', 'constraints']));
    const table = formatResult(result);
    expect(table).toMatch(/contender\s+wall s\s+rows\/s\s+MB\/s\s+peak RSS/);
    expect(table).toMatch(/^\s+cutover(\[count\])?\s+\d+\.\d\d\s+[\d,]+\s+\d+\.\d\d\s+\d+ MB/m);
    expect(table).toMatch(/^\s+pipe\s+\d+\.\d\d/m);
    expect(table).toContain('issue 6 targets:');
  });
});
