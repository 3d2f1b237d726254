// Live progress of a run, from the workflow's `progress` query plus the
// heartbeats of chunks in flight (rows committed so far inside each chunk).
import type { WorkflowHandle } from '@temporalio/client';
import cliProgress from 'cli-progress';
import type { Progress } from '../types';

export interface ProgressView {
  update(p: Progress, inFlight: Map<string, number>): void;
  stop(): void;
}

/**
 * Rows committed by running chunks, per table, from the heartbeat details of
 * the pending copyChunk activities of the run's table workflows.
 */
export async function inFlightRows(handle: WorkflowHandle): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  try {
    const d = await handle.describe();
    const children = (d.raw.pendingChildren ?? []).map((c) => c.workflowId).filter((id): id is string => Boolean(id));
    const descriptions = await Promise.all(
      children.map((id) => handle.client.getHandle(id).describe().catch(() => null)),
    );
    for (const child of [d, ...descriptions]) {
      for (const a of child?.raw.pendingActivities ?? []) {
        if (a.activityType?.name !== 'copyChunk') continue;
        const payload = a.heartbeatDetails?.payloads?.[0]?.data;
        if (!payload) continue;
        const details = JSON.parse(Buffer.from(payload).toString('utf8')) as { rowsDone?: number; table?: string };
        if (details.table && details.rowsDone) out.set(details.table, (out.get(details.table) ?? 0) + details.rowsDone);
      }
    }
  } catch {
    // Progress is best effort: a failed describe just shows less.
  }
  return out;
}

function fmtEta(s: number | null): string {
  if (s === null) return '--';
  if (s < 60) return `${s}s`;
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/** What the operator must do when the run waits at its gate, once per phase change. */
export function gateHint(p: Progress): string | null {
  if (p.phase === 'awaiting approval') return `run ${p.runId} validated and waits for approval: cutover approve ${p.runId} (or cutover abort ${p.runId})`;
  if (p.phase === 'source changed' && p.sourceChanged) {
    const tables = p.sourceChanged.tables.map((t) => `${t.table} (${t.detail})`).join('; ');
    return `the source changed after the snapshot: ${tables}. Copy them again: cutover rerun-changed ${p.runId}, or roll back: cutover abort ${p.runId}`;
  }
  return null;
}

export function createProgressView(stream: NodeJS.WriteStream, tty: boolean): ProgressView {
  let hinted = '';
  const hintOnce = (p: Progress, write: (line: string) => void) => {
    const hint = gateHint(p);
    if (hint && hint !== hinted) write(`[cutover] ${hint}\n`);
    hinted = hint ?? '';
  };
  if (tty) {
    const multi = new cliProgress.MultiBar(
      {
        clearOnComplete: false,
        hideCursor: true,
        format: '{name} |{bar}| {value}/{total} rows  {rate} rows/s  rejects {rejects}',
        barsize: 24,
        stream,
        etaBuffer: 20,
      },
      cliProgress.Presets.shades_classic,
    );
    const phaseBar = multi.create(1, 0, { name: 'phase', rate: '', rejects: '' }, { format: 'phase: {phaseName}  {rate} rows/s  ETA {eta_text}' });
    const bars = new Map<string, cliProgress.SingleBar>();
    let width = 10;
    return {
      update(p, inFlight) {
        hintOnce(p, (line) => multi.log(line));
        width = Math.max(width, ...p.tables.map((t) => t.table.length));
        phaseBar.update(0, { phaseName: p.phase, rate: p.rowsPerSecond, eta_text: fmtEta(p.etaSeconds) });
        for (const t of p.tables) {
          let bar = bars.get(t.table);
          if (!bar) {
            bar = multi.create(Math.max(1, t.rowsTotal), 0, { name: t.table.padEnd(width), rate: 0, rejects: 0 });
            bars.set(t.table, bar);
          }
          const done = Math.min(t.rowsTotal, t.rowsDone + (inFlight.get(t.table) ?? 0));
          bar.update(done, { name: t.table.padEnd(width), rate: p.rowsPerSecond, rejects: t.rejects });
        }
      },
      stop() {
        multi.stop();
      },
    };
  }
  let last = 0;
  let lastPhase = '';
  return {
    update(p, inFlight) {
      hintOnce(p, (line) => stream.write(line));
      const now = Date.now();
      if (p.phase === lastPhase && now - last < 5000) return;
      last = now;
      lastPhase = p.phase;
      const done = p.tables.reduce((s, t) => s + t.rowsDone + (inFlight.get(t.table) ?? 0), 0);
      const total = p.tables.reduce((s, t) => s + t.rowsTotal, 0);
      stream.write(`[cutover] phase ${p.phase}: ${done}/${total} rows, ${p.rowsPerSecond} rows/s, ETA ${fmtEta(p.etaSeconds)}\n`);
    },
    stop() {},
  };
}
