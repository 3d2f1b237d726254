// The workflow of bench/step-latency.ts: n no-op activities one after the other, each timed.
import { proxyActivities } from '@temporalio/workflow';

const { noop } = proxyActivities<{ noop(): Promise<void> }>({ startToCloseTimeout: '10 seconds' });

export async function steps(n: number): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = Date.now();
    await noop();
    ms.push(Date.now() - t);
  }
  return ms;
}
