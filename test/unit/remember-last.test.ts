// rememberLast (encode-batch.ts): with digests, a value is converted for its COPY field and again
// for its digest; the second conversion reuses the first. It must never hand out another
// value's field.
import { describe, expect, it } from 'vitest';
import { rememberLast } from '../../src/copy/encode-batch';
import { makeEncoder, RejectedValue } from '../../src/plan/convert';

describe('rememberLast', () => {
  it('converts once per value and tells -0 from 0', () => {
    let calls = 0;
    const float = makeEncoder({ kind: 'float' });
    const enc = rememberLast((v) => {
      calls++;
      return float(v);
    });
    expect([enc(0), enc(0), enc(-0), enc(-0), enc(0)]).toEqual([float(0), float(0), float(-0), float(-0), float(0)]);
    expect(float(-0)).not.toBe(float(0));
    expect(calls).toBe(3);
  });

  it('does not remember a value it rejects, and gives byte-identical fields to the plain encoder', () => {
    const ts = makeEncoder({ kind: 'timestamp' });
    const enc = rememberLast(ts);
    const values = ['2024-01-02 03:04:05.123456', '2024-01-02 03:04:05.123456', 'not a date', 'not a date', 1n, 2460000.5, null, '2024-02-30'];
    for (const v of values) {
      const want = (() => {
        try {
          return ts(v);
        } catch (err) {
          return err instanceof RejectedValue ? `rejected: ${err.reason}` : 'other';
        }
      })();
      const got = (() => {
        try {
          return enc(v);
        } catch (err) {
          return err instanceof RejectedValue ? `rejected: ${err.reason}` : 'other';
        }
      })();
      expect(got).toBe(want);
    }
  });
});
