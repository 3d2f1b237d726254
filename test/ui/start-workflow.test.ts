// The Temporal UI path, as ops use it: Debian's chromium (driven by
// playwright-core) opens the dev server's Web UI, fills "Start Workflow" with
// our input shape, and sees the migration complete; then approves a run at its
// cutover gate from "Send a Signal" after reading its report in the Queries tab.
// A screenshot of the
// finished run is kept in test-artifacts/.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MigrationReport, Progress } from '../../src/types';
import { progressQuery } from '../../workflows/api';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { testEnv } from '../helpers/env';
import { makeSqlite, tempDir } from '../helpers/sqlite';
import { startTestWorker, type TestWorker } from '../helpers/worker';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = path.join(__dirname, '..', '..', 'test-artifacts');
// Offline machine: no update checks, no sync, no first-run UI, no GPU.
const LAUNCH_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-dev-shm-usage'];

const env = testEnv();
const haveChromium = existsSync(CHROMIUM);
// .ci/run installs chromium whenever a test mentions playwright-core, so a missing browser
// is only tolerated outside CI; in CI the test fails instead of silently skipping.
const skipReason = !env.uiUrl
  ? 'the Temporal UI is off (TEMPORAL_ADDRESS points at an external server)'
  : !haveChromium && !process.env.CI
    ? `${CHROMIUM} is missing: apt-get install chromium (.ci/run does it)`
    : null;
if (skipReason) console.warn(`[ui test] skipped: ${skipReason}`);

describe.skipIf(skipReason !== null)('Temporal UI: start, query, signal', () => {
  let db: TestDatabase;
  let worker: TestWorker;
  let context: BrowserContext;
  let userDataDir: string;
  let source: string;

  beforeAll(async () => {
    db = await createTestDatabase('ui');
    worker = await startTestWorker('ui', { default: db.url });
    source = makeSqlite(
      tempDir('ui'),
      'shop.db',
      `CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
       CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id), total REAL);`,
      (d) => {
        const c = d.prepare('INSERT INTO customers VALUES (?, ?)');
        for (let i = 1; i <= 50; i++) c.run(i, `customer ${i}`);
        const o = d.prepare('INSERT INTO orders VALUES (?, ?, ?)');
        for (let i = 1; i <= 500; i++) o.run(i, (i % 50) + 1, i * 1.5);
      },
    );
    userDataDir = mkdtempSync(path.join(os.tmpdir(), 'cutover-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: LAUNCH_ARGS,
      viewport: { width: 1400, height: 1000 },
      timeout: 30_000,
    });
  }, 90_000);

  afterAll(async () => {
    await context?.close().catch(() => undefined);
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
    await worker?.stop();
    await db?.drop();
  });

  it('starts a migration from the form and shows it Completed', async () => {
    const ui = env.uiUrl!;
    const ns = encodeURIComponent(env.namespace);
    const workflowId = `ui-start-${worker.taskQueue}`;
    const page: Page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(20_000);

    await page.goto(`${ui}/namespaces/${ns}/workflows/start-workflow`, { waitUntil: 'domcontentloaded' });
    await page.getByTestId('workflowId').fill(workflowId);
    await page.getByTestId('taskQueue').fill(worker.taskQueue);
    await page.getByTestId('workflowType').fill('migrateSqliteToPostgres');
    // Input → Data is a CodeMirror editor: type into it like a person would.
    await page.locator('.cm-content').first().click();
    await page.keyboard.insertText(JSON.stringify({ source, target: 'default' }));
    // Leave the editor first: it reformats the JSON on blur, which moves the button.
    await page.getByTestId('start-workflow').click();
    const started = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().includes(`/workflows/${encodeURIComponent(workflowId)}`));
    await page.getByTestId('start-workflow-button').click();
    expect((await started).status()).toBe(200);

    // The run ends (the Temporal client says how), then its page must say Completed.
    const handle = worker.client.workflow.getHandle(workflowId);
    const report = (await handle.result()) as MigrationReport;
    expect(report.status).toBe('succeeded');
    expect(report.totals.rows).toBe(550);

    const runPage = `${ui}/namespaces/${ns}/workflows/${encodeURIComponent(workflowId)}`;
    // The status badge sits next to the workflow id heading (no test id of its own in UI 2.42).
    const completed = page.getByText('Completed', { exact: true }).first();
    try {
      for (let attempt = 0; attempt < 3; attempt++) {
        await page.goto(runPage, { waitUntil: 'domcontentloaded' });
        await page.getByTestId('workflow-id-heading').waitFor();
        expect(await page.getByTestId('workflow-id-heading').textContent()).toContain(workflowId);
        if (await completed.waitFor({ timeout: 10_000 }).then(() => true, () => false)) break;
      }
      expect(await completed.isVisible(), 'the run page shows the status badge "Completed"').toBe(true);
      // The result panel shows our report.
      await expect.poll(async () => (await page.getByTestId('input-and-result').textContent()) ?? '', { timeout: 10_000 }).toContain('succeeded');
    } finally {
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: path.join(ARTIFACTS, 'start-workflow-completed.png'), fullPage: true }).catch(() => undefined);
    }

    // The rows are in PostgreSQL.
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      expect((await client.query('SELECT count(*)::int AS n FROM public.orders')).rows[0].n).toBe(500);
    } finally {
      await client.end();
    }
  }, 90_000);

  it('approves a run waiting at its cutover gate with "Send a Signal", after reading the report in the Queries tab', async () => {
    const ui = env.uiUrl!;
    const ns = encodeURIComponent(env.namespace);
    const workflowId = `ui-approve-${worker.taskQueue}`;
    const handle = await worker.client.workflow.start('migrateSqliteToPostgres', {
      taskQueue: worker.taskQueue,
      workflowId,
      args: [{ source, target: 'default', targetSchema: 'ui_gate', requireApproval: true }],
    });
    await expect.poll(async () => ((await handle.query(progressQuery).catch(() => null)) as Progress | null)?.phase, { timeout: 60_000, interval: 200 }).toBe('awaiting approval');

    const page: Page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(20_000);
    try {
      await page.goto(`${ui}/namespaces/${ns}/workflows/${encodeURIComponent(workflowId)}`, { waitUntil: 'domcontentloaded' });
      await page.getByTestId('workflow-id-heading').waitFor();
      // The report to approve: the `progress` query, from the Queries tab.
      await page.getByTestId('queries-tab').click();
      await page.getByRole('button', { name: 'Run Query' }).waitFor();
      // Query Type is a custom select (defaults to the first query, "plan"): open it, pick "progress".
      await page.getByTestId('query-select-button').click();
      await page.locator('#query-select-select').getByRole('option', { name: 'progress', exact: true }).click();
      await page.getByRole('button', { name: 'Run Query' }).click();
      await expect.poll(async () => (await page.locator('main').textContent()) ?? '', { timeout: 20_000 }).toContain('awaitingApproval');
      expect((await page.locator('main').textContent()) ?? '').toContain('"status": "succeeded"');
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: path.join(ARTIFACTS, 'gate-query-report.png'), fullPage: true }).catch(() => undefined);

      await page.getByRole('button', { name: 'More Actions' }).click();
      await page.locator('[data-testid=signal-button]:visible').first().click();
      const modal = page.locator('[data-testid=signal-confirmation-modal]:visible');
      // With a worker up, the UI lists the workflow's own signals (from its metadata query).
      await modal.getByRole('button', { name: /Select a signal/ }).click();
      await modal.getByRole('option', { name: 'approve', exact: true }).click();
      const sent = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().includes('/signal/'));
      await modal.getByTestId('confirm-modal-button').click();
      expect((await sent).status()).toBe(200);
    } finally {
      await page.screenshot({ path: path.join(ARTIFACTS, 'gate-approved.png'), fullPage: true }).catch(() => undefined);
    }

    const report = (await handle.result()) as MigrationReport;
    expect(report.status).toBe('succeeded');
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      expect((await client.query('SELECT status FROM cutover.runs WHERE run_id = $1', [workflowId])).rows[0].status).toBe('cut over');
    } finally {
      await client.end();
    }
  }, 120_000);
});
