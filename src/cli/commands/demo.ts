// `npm run demo`: a candle-annotator database (seeds 000–002), migrated into
// embedded PostgreSQL on the embedded Temporal stack, with live progress.
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import type { Config } from '../../config';
import { generateCandleDb } from '../../demo/candle-db';
import { ExitCode } from '../exit-codes';
import { printOutcome, migrateCommand } from './migrate';
import type { Session } from '../session';

const DEMO_DB = 'cutover_demo';

/** A fresh target database for each demo run, so the demo can be run again and again. */
async function freshDemoDatabase(adminUrl: string): Promise<string> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${DEMO_DB} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${DEMO_DB}`);
  } finally {
    await client.end();
  }
  const u = new URL(adminUrl);
  u.pathname = `/${DEMO_DB}`;
  return u.toString();
}

export async function demoCommand(cfg: Config, flags: { rows: number; exit: boolean; json: boolean }, log: (m: string) => void): Promise<number> {
  const dir = path.join(cfg.stateDir, 'demo');
  mkdirSync(dir, { recursive: true });
  const source = path.join(dir, `candles-${flags.rows}.db`);
  if (!existsSync(source)) {
    log(`generating ${source} (candle annotator: charts, candles, annotations, spans; ${flags.rows} candles)…`);
    const t0 = Date.now();
    const { tables } = generateCandleDb(source + '.tmp', { candles: flags.rows });
    const { renameSync } = await import('node:fs');
    renameSync(source + '.tmp', source);
    log(`generated ${Object.values(tables).reduce((a, b) => a + b, 0)} rows in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  }

  // Target: DATABASE_URL if given, else embedded PostgreSQL (started by the session).
  let session: Session | null = null;
  const external = process.env.DATABASE_URL;
  let targetUrl: string | undefined;
  if (external) targetUrl = await freshDemoDatabase(external);

  const outcome = await migrateCommand(
    cfg,
    { source, target: targetUrl, withWorker: true, json: flags.json, workflowId: `cutover-demo-${new Date().toISOString().replace(/[-:.]/g, '')}` },
    {
      log,
      embeddedPostgres: !external,
      onSession: (s) => {
        session = s;
      },
      prepareTarget: external ? undefined : freshDemoDatabase,
    },
  );
  printOutcome(outcome, flags.json, outcome.session.uiUrl, outcome.runId);
  const keepUp = !flags.exit && process.stdin.isTTY && outcome.session.uiUrl;
  if (keepUp) {
    log(`Temporal UI: ${outcome.session.uiUrl} — press Ctrl-C to stop the stack`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
  }
  await (session as Session | null)?.stop();
  return outcome.exitCode === 0 ? ExitCode.Success : outcome.exitCode;
}
