// How busy the machine was around a bench run, from /proc/stat (Linux; null elsewhere).
//
// The 1-minute load average the bench printed before could not tell other work from the bench's own
// previous runs (it decays over minutes), so it warned on every bench. Two readings instead:
// - the share of the CPUs busy in a short quiet window just before a run, when nothing of the bench
//   runs (other programs, or a previous run's PostgreSQL still writing back);
// - the share of the CPUs' time the hypervisor took (steal) during the run: on a VM, the host's other
//   guests slow every contender without showing up anywhere else.
import fs from 'node:fs';

/** The first line of /proc/stat, in clock ticks. */
export interface CpuTicks {
  total: number;
  idle: number;
  steal: number;
}

/** Pure: the aggregate "cpu" line of /proc/stat. idle includes iowait; guest time is already in user. */
export function parseProcStat(text: string): CpuTicks | null {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return null;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  if (v.length < 4 || v.some((x) => !Number.isFinite(x))) return null;
  // user nice system idle iowait irq softirq steal (guest, guest_nice: counted in user/nice already)
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  return { total, idle: (v[3] ?? 0) + (v[4] ?? 0), steal: v[7] ?? 0 };
}

export function readCpuTicks(): CpuTicks | null {
  try {
    return parseProcStat(fs.readFileSync('/proc/stat', 'utf8'));
  } catch {
    return null;
  }
}

/** Pure: between two readings, the share of the CPUs' time that was busy (steal included) and stolen. */
export function cpuShares(a: CpuTicks, b: CpuTicks): { busy: number; steal: number } | null {
  const total = b.total - a.total;
  if (!(total > 0)) return null;
  return { busy: 1 - (b.idle - a.idle) / total, steal: (b.steal - a.steal) / total };
}

/** The share of the CPUs busy during `ms` of waiting (the bench itself idle), or null without /proc/stat. */
export async function busyShareOver(ms: number): Promise<number | null> {
  const a = readCpuTicks();
  await new Promise((r) => setTimeout(r, ms));
  const b = readCpuTicks();
  return a && b ? (cpuShares(a, b)?.busy ?? null) : null;
}
