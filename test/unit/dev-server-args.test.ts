import { describe, expect, it } from 'vitest';
import { CUTOVER_SEARCH_ATTRIBUTES, DEV_SERVER_DYNAMIC_CONFIG, devServerArgs } from '../../src/dev/temporal-server';

const base = { ip: '127.0.0.1', port: 7233, uiPort: null, namespace: 'default', dbFile: null };

/** The values of every occurrence of `flag`. */
function values(args: string[], flag: string): string[] {
  return args.flatMap((a, i) => (a === flag ? [args[i + 1]!] : []));
}

describe('devServerArgs', () => {
  it('lifts the transfer queue read rate by default (the 20/s default cost ≈ 50 ms per workflow step)', () => {
    const args = devServerArgs(base);
    expect(values(args, '--dynamic-config-value')).toEqual(['history.transferProcessorMaxPollRPS=10000']);
    expect(DEV_SERVER_DYNAMIC_CONFIG['history.transferProcessorMaxPollRPS']).toBeGreaterThanOrEqual(1000);
  });

  it('passes dynamic config values as JSON, and none when given none', () => {
    const args = devServerArgs({ ...base, dynamicConfig: { 'a.number': 5, 'b.flag': true, 'c.text': 'x y' } });
    expect(values(args, '--dynamic-config-value')).toEqual(['a.number=5', 'b.flag=true', 'c.text="x y"']);
    expect(devServerArgs({ ...base, dynamicConfig: {} })).not.toContain('--dynamic-config-value');
  });

  it('in memory and headless, or persisted with a UI; search attributes registered', () => {
    const mem = devServerArgs(base);
    expect(mem).toContain('--headless');
    expect(mem).not.toContain('--db-filename');
    expect(values(mem, '--search-attribute')).toEqual(Object.entries(CUTOVER_SEARCH_ATTRIBUTES).map(([k, t]) => `${k}=${t}`));
    const kept = devServerArgs({ ...base, uiPort: 8233, dbFile: '/tmp/t.db', namespace: 'ns' });
    expect(values(kept, '--db-filename')).toEqual(['/tmp/t.db']);
    expect(values(kept, '--ui-port')).toEqual(['8233']);
    expect(values(kept, '--namespace')).toEqual(['ns']);
    expect(kept).not.toContain('--headless');
  });
});
