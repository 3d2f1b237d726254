// The issue-6 verdicts of bench/run.ts (checkTargets) from figures: pure, no runs.
import { describe, expect, it } from 'vitest';
import { checkTargets, type ContenderResult, type ScaleResult } from '../../bench/run';

function contender(label: string, kind: ContenderResult['kind'], wallS: number, ok = true): ContenderResult {
  const rows = 3_000_000;
  return { label, kind, runs: [], ok, wallS, peakRssBytes: 250e6, rowsPerS: rows / wallS, mbPerS: 296 / wallS, usPerRow: (wallS / rows) * 1e6, reportS: null, inRunS: null, phases: {} };
}

function scale(s: number, contenders: ContenderResult[]): ScaleResult {
  return { scale: s, file: 'bench.db', rows: 3_000_000 * s, tables: {}, bytes: 296e6 * s, generatedS: null, contenders, skipped: [] };
}

const verdict = (checks: ReturnType<typeof checkTargets>, prefix: string) => checks.find((c) => c.target.startsWith(prefix))!;

describe('checkTargets', () => {
  it('passes and fails each ratio against the same scale-1 pipe', () => {
    const checks = checkTargets([
      scale(1, [contender('cutover[count]', 'cutover', 7.4), contender('cutover[checksum]', 'cutover', 10.2), contender('cutover-nockpt[count]', 'cutover-nockpt', 7.2), contender('pipe', 'pipe', 5)]),
    ]);
    expect(verdict(checks, 'cutover (count validation) ≤ 1.5x')).toMatchObject({ pass: true, measured: '7.40 s / 5.00 s = 1.48x' });
    expect(verdict(checks, 'cutover (checksum validation)')).toMatchObject({ pass: false, measured: '10.20 s / 5.00 s = 2.04x' });
    expect(verdict(checks, 'checkpoint + heartbeat').pass).toBe(true);
  });

  it('says why a figure is missing: not run (and how to run it), or its runs failed', () => {
    const countOnly = checkTargets([scale(1, [contender('cutover[count]', 'cutover', 8), contender('pipe', 'pipe', 5)])]);
    expect(verdict(countOnly, 'cutover (checksum validation)')).toMatchObject({ pass: null, measured: 'not measured: not run (add checksum to --validation)' });
    expect(verdict(countOnly, 'checkpoint + heartbeat').measured).toMatch(/^not measured: not run \(cutover-nockpt was left out by --only/);

    const failed = checkTargets([
      scale(1, [contender('cutover[count]', 'cutover', 8), contender('cutover[checksum]', 'cutover', 12, false), contender('cutover-nockpt[count]', 'cutover-nockpt', 8, false), contender('pipe', 'pipe', 5)]),
    ]);
    expect(verdict(failed, 'cutover (checksum validation)').measured).toBe('not measured: its runs failed');
    expect(verdict(failed, 'checkpoint + heartbeat').measured).toBe('not measured: its runs failed');
  });
});
