// Worker-thread side of source-thread.ts: hashes the source side of one chunk per request.
import { parentPort } from 'node:worker_threads';
import { openSource } from '../sqlite/open';
import { hashSource } from './fast';
import type { SourceRequest, SourceReply } from './source-thread';

const port = parentPort!;

port.on('message', (m: SourceRequest) => {
  const cancel = new Int32Array(m.cancel);
  let last = 0;
  try {
    const db = openSource(m.dbPath);
    try {
      const result = hashSource(db, m.spec, (rows) => {
        if (Atomics.load(cancel, 0) !== 0) throw Object.assign(new Error('cancelled'), { name: 'CancelledError' });
        if (rows - last >= 20_000) {
          last = rows;
          port.postMessage({ id: m.id, progress: rows } satisfies SourceReply);
        }
      });
      port.postMessage({ id: m.id, result } satisfies SourceReply);
    } finally {
      db.close();
    }
  } catch (err) {
    const e = err as Error & { code?: unknown; type?: unknown };
    port.postMessage({
      id: m.id,
      error: { name: e?.name ?? 'Error', message: e?.message ?? String(err), stack: e?.stack, code: typeof e?.code === 'string' ? e.code : undefined },
    } satisfies SourceReply);
  }
});
