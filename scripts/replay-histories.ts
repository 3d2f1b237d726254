// Replays recorded workflow histories against the current workflow code.
// Prints one line per history: "ok <file>" or "FAIL <file>: <error>"; exit 1 on any failure.
// Run in its own process (the test suite spawns it) so the SDK's protobuf classes load once.
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflows } from '../src/worker';

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const dir = process.argv[2] ?? path.join(__dirname, '..', 'test', 'fixtures', 'histories');
  const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  const workflowBundle = await bundleWorkflows();
  let failed = 0;
  for (const file of files) {
    const history = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as {
      events: { workflowExecutionStartedEventAttributes?: { workflowId?: string } }[];
    };
    // Child workflow ids derive from the run's id: replay under the id it ran with.
    const workflowId = history.events[0]?.workflowExecutionStartedEventAttributes?.workflowId ?? file.replace(/\.json$/, '');
    try {
      await Worker.runReplayHistory({ workflowBundle }, history, workflowId);
      process.stdout.write(`ok ${file}\n`);
    } catch (err) {
      failed++;
      process.stdout.write(`FAIL ${file}: ${(err as Error).message}\n`);
    }
  }
  process.exitCode = failed ? 1 : 0;
}

void main();
