// The worker's JSON log lines and the redaction of secrets (pure: no servers).
import { describe, expect, it } from 'vitest';
import { JsonLogger, formatLine, redact, sanitize } from '../../src/observability/log';

describe('redact', () => {
  it.each([
    ['postgres://app:s3cr3t@db.internal:5432/app', 'postgres://app:***@db.internal:5432/app'],
    ['postgresql://app:p%40ss@db/app?sslmode=require', 'postgresql://app:***@db/app?sslmode=require'],
    ['connect ECONNREFUSED using postgres://u:pw@h/db, retrying', 'connect ECONNREFUSED using postgres://u:***@h/db, retrying'],
    ['host=db user=app password=hunter2 dbname=app', 'host=db user=app password=*** dbname=app'],
    ["password='with space' host=db", 'password=*** host=db'],
    ['PGPASSWORD=hunter2 psql', 'PGPASSWORD=*** psql'],
    ['{"user":"app","password":"hunter2"}', '{"user":"app","password":"***"}'],
    ['https://user:tok@example.com/x', 'https://user:***@example.com/x'],
    ['TEMPORAL_API_KEY=abc.def', 'TEMPORAL_API_KEY=***'],
  ])('%s', (input, expected) => {
    expect(redact(input)).toBe(expected);
  });

  it('leaves ordinary text alone', () => {
    const s = 'copy of table users, chunk 3 (id 1..500000) failed: disk full [53100: disk full]';
    expect(redact(s)).toBe(s);
    expect(redact('postgres://localhost:5432/app')).toBe('postgres://localhost:5432/app');
  });

  it('must fail when a secret survives (the check can fail)', () => {
    expect(redact('postgres://a:b@c/d')).not.toContain(':b@');
  });
});

describe('sanitize', () => {
  it('redacts nested values and secret-named keys, turns bigint into text', () => {
    const out = sanitize({ url: 'postgres://u:pw@h/db', nested: { password: 'x', note: 'password=y' }, n: 2n ** 64n, err: new Error('postgres://u:pw@h') });
    expect(out).toEqual({
      url: 'postgres://u:***@h/db',
      nested: { password: '***', note: 'password=***' },
      n: '18446744073709551616',
      err: { name: 'Error', message: 'postgres://u:***@h' },
    });
  });
});

describe('JsonLogger', () => {
  it('writes one JSON object per line with time, level, msg, runId, table, chunk', () => {
    const lines: string[] = [];
    const log = new JsonLogger({ level: 'INFO', write: (l) => lines.push(l) });
    log.info('copyChunk done', { workflowId: 'cutover-app.db-1', table: 'orders', chunkNo: 3, rows: 1000, attempt: 2 });
    log.debug('hidden');
    log.warn('target postgres://u:pw@h/db unreachable', { activityType: 'preflight', runId: 'r1' });
    expect(lines).toHaveLength(2);
    for (const l of lines) expect(l.endsWith('\n') && !l.slice(0, -1).includes('\n')).toBe(true);
    const [a, b] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(Object.keys(a!).slice(0, 6)).toEqual(['time', 'level', 'msg', 'runId', 'table', 'chunk']);
    expect(a).toMatchObject({ level: 'info', msg: 'copyChunk done', runId: 'cutover-app.db-1', table: 'orders', chunk: 3, rows: 1000, attempt: 2 });
    expect(new Date(a!.time as string).getTime()).not.toBeNaN();
    expect(b).toMatchObject({ level: 'warn', msg: 'target postgres://u:***@h/db unreachable', runId: 'r1', activityType: 'preflight' });
  });

  it('takes the table and chunk from a chunk object, and child fields', () => {
    const lines: string[] = [];
    const log = new JsonLogger({ level: 'debug', write: (l) => lines.push(l) }).child({ runId: 'r2' });
    log.debug('start', { chunk: { table: 'candles', chunkNo: 7, lo: null } });
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'debug', runId: 'r2', table: 'candles', chunk: 7 });
  });

  it('uses the SDK timestamp when given', () => {
    const line = JSON.parse(formatLine('INFO', 'x', { timestampNanos: 1_700_000_000_000_000_000n }));
    expect(line.time).toBe('2023-11-14T22:13:20.000Z');
    expect(line).not.toHaveProperty('timestampNanos');
  });
});
