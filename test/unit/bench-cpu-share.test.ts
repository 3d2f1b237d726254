// The bench's reading of other work and steal around a run (bench/cpu-share.ts, bench/run.ts contentionLine): pure.
import { describe, expect, it } from 'vitest';
import { cpuShares, parseProcStat } from '../../bench/cpu-share';
import { contentionLine } from '../../bench/run';

// /proc/stat's first lines: user nice system idle iowait irq softirq steal guest guest_nice.
const A = 'cpu  1000 0 200 5000 100 0 10 40 0 0\ncpu0 500 0 100 2500 50 0 5 20 0 0\n';
const B = 'cpu  1300 0 260 5500 140 0 20 140 0 0\ncpu0 650 0 130 2750 70 0 10 70 0 0\n';

describe('parseProcStat and cpuShares', () => {
  it('reads the aggregate line: idle with iowait, steal on its own, guest time not counted twice', () => {
    expect(parseProcStat(A)).toEqual({ total: 6350, idle: 5100, steal: 40 });
    expect(parseProcStat('intr 1 2 3\n')).toBeNull();
    expect(parseProcStat('cpu  1 2 x 4\n')).toBeNull();
  });

  it('gives the busy and stolen shares between two readings', () => {
    // Between A and B: idle + iowait 5100 → 5640, steal 40 → 140.
    const d = cpuShares(parseProcStat(A)!, parseProcStat(B)!)!;
    const total = 1300 + 260 + 5500 + 140 + 20 + 140 - 6350;
    expect(d.busy).toBeCloseTo(1 - (5640 - 5100) / total, 10);
    expect(d.steal).toBeCloseTo(100 / total, 10);
    expect(cpuShares(parseProcStat(A)!, parseProcStat(A)!)).toBeNull();
  });
});

describe('contentionLine', () => {
  it('warns only when other work before a run or steal during one passed its limit', () => {
    expect(contentionLine({ contention: { maxBusyBefore: 0.04, maxSteal: 0.01 } })).toBe(
      "other work: up to 4% of the CPUs busy in the 0.5 s before a run; steal: up to 1% of the CPUs' time during a run",
    );
    expect(contentionLine({ contention: { maxBusyBefore: 0.6, maxSteal: 0.01 } })).toMatch(/— THE MACHINE WAS BUSY before a run: figures are skewed$/);
    expect(contentionLine({ contention: { maxBusyBefore: 0.1, maxSteal: 0.12 } })).toMatch(/— THE HOST TOOK CPU TIME \(steal\) during a run: figures are skewed$/);
    expect(contentionLine({ contention: { maxBusyBefore: null, maxSteal: null } })).toMatch(/up to n\/a of the CPUs busy/);
  });
});
