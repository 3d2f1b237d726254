// A worker thread that answers once: its first message is the result, then it is ended.
import { Worker, type ResourceLimits } from 'node:worker_threads';

/** Runs `code` (eval'd) with `workerData`; resolves with its first message. `what` names it in errors. */
export function oneShotThread<T>(code: string, workerData: unknown, resourceLimits: ResourceLimits, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const w = new Worker(code, { eval: true, workerData, resourceLimits });
    let settled = false;
    w.once('message', (m: T) => {
      settled = true;
      resolve(m);
      void w.terminate();
    });
    w.once('error', (err) => {
      if (!settled) reject(err);
    });
    w.once('exit', (c) => {
      if (!settled) reject(new Error(`${what} thread exited (code ${c})`));
    });
  });
}
