import { describe, expect, it } from 'vitest';
import { resolveInput } from '../../workflows/input';
import { resolveConfig } from '../../src/config';
import { targetResolver } from '../../src/targets';

describe('workflow input', () => {
  it('fills defaults for everything but source', () => {
    expect(resolveInput({ source: '/data/app.db' })).toEqual({
      source: '/data/app.db',
      target: 'default',
      targetSchema: 'public',
      batchSize: 50000,
      chunkSize: 1000000,
      parallelism: 2,
      allowRejects: false,
      infer: false,
      keepStateOnRollback: false,
      snapshot: true,
      orphans: 'fail',
      identifiers: 'keep',
      schema: 'create',
      truncate: false,
      ignoreColumns: [],
      drizzleMigrations: null,
      sqlMigrations: null,
      schemaOnly: false,
      grantSelect: null,
      requireApproval: false,
      cutoverHook: null,
      validation: 'checksum',
      onNul: 'reject',
      onInvalidUtf8: 'reject',
      maxRejects: 0,
      onSourceChange: 'ask',
      map: {},
    });
  });

  it.each([
    [{}, /"source"/],
    [{ source: 'a.db', target: 'postgres://u:p@h/db' }, /connection name/],
    [{ source: 'a.db', batchSize: 0 }, /batchSize/],
    [{ source: 'a.db', targetSchema: 'cutover' }, /targetSchema/],
    [{ source: 'a.db', bogus: 1 }, /unknown field/],
    [{ source: 'a.db', onSourceChange: 'ignore' }, /"onSourceChange" must be "ask"/],
  ])('refuses %j', (raw, message) => {
    expect(() => resolveInput(raw as never)).toThrow(message);
  });
});

describe('config and targets', () => {
  it('takes flags over env over defaults, and names both when wrong', () => {
    const cfg = resolveConfig({ taskQueue: 'flag-q' }, { CUTOVER_TASK_QUEUE: 'env-q', TEMPORAL_NAMESPACE: 'ns' }, '/tmp');
    expect(cfg).toMatchObject({ taskQueue: 'flag-q', namespace: 'ns', temporalAddress: null, stateDir: '/tmp/.cutover' });
    expect(Object.isFrozen(cfg)).toBe(true);
    expect(() => resolveConfig({}, { CUTOVER_METRICS_PORT: 'x' })).toThrow(/--metrics-port or CUTOVER_METRICS_PORT/);
  });

  it('resolves target names from the worker environment only', () => {
    const r = targetResolver({}, { CUTOVER_TARGET_URL: 'postgres://a', CUTOVER_TARGET_URL_REPORTING: 'postgres://b' });
    expect(r('default')).toBe('postgres://a');
    expect(r('reporting')).toBe('postgres://b');
    expect(() => r('nope')).toThrow(/CUTOVER_TARGET_URL_NOPE/);
  });
});
