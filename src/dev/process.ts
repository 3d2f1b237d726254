// Small process helpers shared by the dev servers we start and stop.
import fsSync from 'node:fs';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** True when a process with that pid exists (EPERM: it exists but is not ours). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A process's command line, to tell our leftover server from an unrelated process that reused the pid. */
export function cmdline(pid: number): string {
  try {
    return fsSync.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}
