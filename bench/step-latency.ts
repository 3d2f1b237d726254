// What one workflow step costs on a Temporal dev server: the round trip of a no-op activity (scheduled by a
// workflow task, run, its completion handed back to the next workflow task), with the dynamic config cutover
// starts its dev servers with (DEV_SERVER_DYNAMIC_CONFIG) and with the server's defaults. A migration is a chain
// of such steps (phases, chunks, table workflows): their latency is wall time on its critical path.
//   node -r tsx/cjs bench/step-latency.ts [STEPS]
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs/promises';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { DEV_SERVER_DYNAMIC_CONFIG, startTemporalDevServer } from '../src/dev/temporal-server';

const steps = Number(process.argv[2] ?? 60);
const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function measure(label: string, dynamicConfig: Record<string, number>, workflowBundle: { code: string }): Promise<void> {
  const stateDir = await fs.mkdtemp(path.join(os.tmpdir(), 'step-latency-'));
  const server = await startTemporalDevServer({ stateDir, port: 0, ui: false, persist: false, dynamicConfig, log: () => undefined });
  try {
    const connection = await NativeConnection.connect({ address: server.address });
    const worker = await Worker.create({ connection, taskQueue: 'steps', workflowBundle, activities: { async noop() {} } });
    const running = worker.run();
    const client = new Client({ connection: await Connection.connect({ address: server.address }) });
    const ms = await client.workflow.execute<(n: number) => Promise<number[]>>('steps', { taskQueue: 'steps', workflowId: `steps-${Date.now()}`, args: [steps] });
    const later = ms.slice(20);
    console.log(`${label.padEnd(34)} first 20 steps median ${median(ms.slice(0, 20))} ms · later ${median(later)} ms (max ${Math.max(...later)}) · ${steps} steps ${ms.reduce((a, b) => a + b, 0)} ms`);
    worker.shutdown();
    await running;
    await client.connection.close();
    await connection.close();
  } finally {
    await server.stop();
    await fs.rm(stateDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const workflowBundle = await bundleWorkflowCode({ workflowsPath: require.resolve('./step-latency-workflow'), logger: quiet });
  await measure("cutover's dev server config", { ...DEV_SERVER_DYNAMIC_CONFIG } as Record<string, number>, workflowBundle);
  await measure('dev server defaults', {}, workflowBundle);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
