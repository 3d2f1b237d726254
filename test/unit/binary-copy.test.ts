// Binary COPY must store exactly what COPY text stores, and reject exactly the same rows for the
// same reasons: the same SQLite rows are encoded both ways, loaded into two tables of a real
// PostgreSQL, and the tables' contents compared byte for byte (COPY … TO … binary).
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planFromFile } from '../../src/plan/plan-file';
import { copyFromSql, createTableSql } from '../../src/postgres/ddl';
import { ChunkEncoder, PayloadPool, type EncodedBatch } from '../../src/copy/encode-batch';
import { binaryFieldWriter } from '../../src/copy/binary-fields';
import { makeEncoder, RejectedValue } from '../../src/plan/convert';
import { BinaryRows } from '../../src/copy/binary-rows';
import { escapeCopyText, unescapeCopyText } from '../../src/plan/copy-text';
import { openSource, type SqliteDb } from '../../src/sqlite/open';
import type { MigrationPlan, TablePlan } from '../../src/types';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { makeSqlite, tempDir } from '../helpers/sqlite';
import { seededRandom } from '../helpers/random';

describe('unescapeCopyText', () => {
  it.each(['', 'plain', 'a\tb', 'back\\slash', '\\\\', 'x\ny\r\n', '\\t literally', 'end\\'])('inverts escapeCopyText: %j', (s) => {
    expect(unescapeCopyText(escapeCopyText(s)!)).toBe(s);
  });
  it('reads every escape of COPY text, as PostgreSQL does', () => {
    expect(unescapeCopyText('a\\bb\\101\\x42\\v')).toBe('a\bbAB\v');
  });
});

describe('which columns are written in binary', () => {
  const text = makeEncoder({ kind: 'text' });
  it('needs the target type that the converter writes for', () => {
    expect(binaryFieldWriter({ pgType: 'bigint', converter: { kind: 'integer', bits: 64 } }, text)).not.toBeNull();
    expect(binaryFieldWriter({ pgType: 'integer', converter: { kind: 'integer', bits: 64 } }, text)).toBeNull();
    expect(binaryFieldWriter({ pgType: 'text', converter: { kind: 'integer', bits: 64 } }, text)).toBeNull();
    expect(binaryFieldWriter({ pgType: 'varchar(20)', converter: { kind: 'text', maxLength: 20 } }, text)).not.toBeNull();
    expect(binaryFieldWriter({ pgType: 'varchar(21)', converter: { kind: 'text', maxLength: 20 } }, text)).toBeNull();
    expect(binaryFieldWriter({ pgType: 'my_domain', converter: { kind: 'text' } }, text)).toBeNull();
    expect(binaryFieldWriter({ pgType: 'numeric(10,2)', converter: { kind: 'numeric', precision: 10, scale: 2 } }, text)).not.toBeNull();
    expect(binaryFieldWriter({ pgType: 'numeric', converter: { kind: 'numeric', precision: 10, scale: 2 } }, text)).toBeNull();
    expect(binaryFieldWriter({ pgType: 'timestamptz', converter: { kind: 'epoch', unit: 's', tz: true } }, text)).not.toBeNull();
    expect(binaryFieldWriter({ pgType: 'timestamp', converter: { kind: 'epoch', unit: 's', tz: true } }, text)).toBeNull();
  });

  it('rejects a numeric text that numeric_in would refuse, with the reason the text path gives', () => {
    const spec = { kind: 'numeric' as const };
    const text = makeEncoder(spec);
    const w = binaryFieldWriter({ pgType: 'numeric', converter: spec }, text)!;
    const out = new BinaryRows(new PayloadPool(), 0);
    for (const v of ['0e-20000', '0e1073741823', `0.${'0'.repeat(16384)}`]) {
      const start = out.beginRow(1);
      const reason = (() => {
        try {
          text(v);
          return null;
        } catch (err) {
          return (err as RejectedValue).reason;
        }
      })();
      expect(reason, v).toMatch(/written with \d+ digits after the decimal point|exponent PostgreSQL numeric does not read/);
      expect(() => w(v, out)).toThrow(RejectedValue);
      expect(() => w(v, out)).toThrow(reason!);
      out.rollback(start);
    }
    const start = out.beginRow(1);
    w('1.50', out);
    expect(out.bytesSoFar()).toBeGreaterThan(start + 2 + 4);
  });
});

// ---------------------------------------------------------------------------------------------

const SQL = `
CREATE TABLE simple (
  id INTEGER PRIMARY KEY,
  i64 INTEGER, i32 INTEGER, i16 INTEGER, dbl REAL,
  txt TEXT, vc TEXT, blob BLOB, flag INTEGER, js TEXT, u TEXT,
  num TEXT, num2 TEXT, ts TEXT, tstz TEXT, d TEXT, ep INTEGER
);`;

const MAP: Record<string, string> = {
  'simple.i64': 'bigint',
  'simple.i32': 'integer',
  'simple.i16': 'smallint',
  'simple.dbl': 'double precision',
  'simple.txt': 'text',
  'simple.vc': 'varchar(20)',
  'simple.blob': 'bytea',
  'simple.flag': 'boolean',
  'simple.js': 'jsonb',
  'simple.u': 'uuid',
  'simple.num': 'numeric',
  'simple.num2': 'numeric(10,2)',
  'simple.ts': 'timestamp',
  'simple.tstz': 'timestamptz',
  'simple.d': 'date',
  'simple.ep': 'timestamptz:s',
};

type V = bigint | number | string | Buffer | null;
const INVALID_UTF8 = Buffer.from([0x61, 0xff, 0xfe, 0x62]);

/** Per column: ordinary values, and odd ones (other storage classes, edges, and values to reject). */
const VALUES: Record<string, { ordinary: V[]; odd: V[] }> = {
  i64: {
    ordinary: [0n, 1n, -1n, 1_000_000_007n, -9_223_372_036_854_775_808n, 9_223_372_036_854_775_807n, null],
    odd: [5, 5.5, -0, 2 ** 62, 2 ** 63, '42', '-17', '007', '+3', ' 4', 'x', '', Buffer.from([1]), 1e300],
  },
  i32: {
    ordinary: [0n, 2_147_483_647n, -2_147_483_648n, 12345n, null],
    odd: [2_147_483_648n, -2_147_483_649n, 3.0, 3.25, '99', '2147483648', 'abc', Buffer.alloc(0)],
  },
  i16: {
    ordinary: [0n, 32767n, -32768n, 7n, null],
    odd: [32768n, -32769n, 1.0, '12', '0012', Buffer.from('12')],
  },
  dbl: {
    ordinary: [0.1, -0, 0, 1 / 3, 4.94e-324, 1.7976931348623157e308, -2.5e-308, 1e21, 43521.37, null],
    odd: [3n, 9_007_199_254_740_993n, 2n ** 60n, 'NaN', 'nan', 'inf', '-Infinity', '0.1', '1e400', '1e-400', '-0', '0.10000000000000001', '0.1000000000000000055511151231257827', 'pi', Buffer.from([0])],
  },
  txt: {
    ordinary: ['', 'plain', 'tab\there', 'back\\slash', 'multi\nline\r\n', 'Zoë 🚀', '\\N', 'x'.repeat(48), 'y'.repeat(49), `${'a'.repeat(47)}é`, `é${'b'.repeat(60)}`, null],
    odd: [12n, 1.5, 3.0, -0, 1e21, Buffer.from('bytes as text'), INVALID_UTF8, 'nul\0inside', 'lone \ud800 surrogate', '\ufffd genuine'],
  },
  vc: {
    ordinary: ['short', '🚀'.repeat(20), 'x'.repeat(20), 'tab\tand \\', null],
    odd: ['x'.repeat(21), '🚀'.repeat(21), 'nul\0', 'lone \udc00', -1234567890123456789n, 12345678901234567n, 1.25],
  },
  blob: {
    ordinary: [Buffer.from([0, 1, 2, 255]), Buffer.alloc(0), Buffer.from('\\x00'), null],
    odd: ['text', 'Zoë', 5n, 2.5, 'lone \udc00'],
  },
  flag: {
    ordinary: [0n, 1n, null],
    odd: [2n, -1n, 0.0, 1.0, 0.5, 't', 'FALSE', 'yes', 'off', 'maybe', '', Buffer.from([1])],
  },
  js: {
    ordinary: ['{"a":1}', '[1, 2.50, {"z": null}]', '{"k": "tab\\t", "b": "back\\\\slash"}', '"\\u00e9"', 'null', null],
    odd: ['not json', '{"a": 1, "a": 2}', '"\\u0000"', '"\\ud800"', '  [ ]  ', 7n, 2.5, 1e300, Buffer.from('{}'), 'tab\tinside'],
  },
  u: {
    ordinary: ['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A12', null],
    odd: ['a0eebc999c0b4ef8bb6d6bb9bd380a13', Buffer.alloc(16, 0xab), Buffer.alloc(15), '{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}', 'nope', 5n],
  },
  num: {
    ordinary: ['1.50', '-0.000', '007.50', '1e3', '1.5E-7', '.5', '5.', '+3', '12345678901234567890.123456789', 3n, -9_223_372_036_854_775_808n, 2.5, 0.1, 1 / 3, null],
    odd: ['NaN', 'Infinity', '-inf', 'x', '', '1e131071', '1e-16383', '0e-20000', '0e1073741823', 1e300, 5e-324, -0, Buffer.from('1')],
  },
  num2: {
    ordinary: ['12.34', '-0.5', '99999999.99', 1.5, 3n, null],
    odd: ['12.345', '100000000', '1e2', 'NaN', 'Infinity', 0.125, 123456789n, 'x'],
  },
  ts: {
    ordinary: ['2024-01-02 03:04:05', '2024-01-02T03:04:05.123456', '2024-02-29 00:00:00.5', '0001-01-01 00:00:00', '9999-12-31 23:59:59.999999', '1999-12-31 23:59:59.999999', '2000-02-29t12:00:00.1', '2024-01-02 03:04:05.1234560', null],
    odd: ['20240102030405', 20240102030405n, 2460000.5, 2460000.123456789, '2024-01-02 03:04:05+02', '2024-01-02', '2024-02-30 00:00:00', '2024-01-02 03:04:05.1234567', 'garbage', 1_700_000_000n, '2024-01-02 03:04:05Z', '1900-02-29 00:00:00', '0000-01-01 00:00:00', '2024-01-02 24:00:00', '2024-01-02 23:59:60', '2024-13-01 00:00:00', '2024-01-02 03:04:05.', '2024-01-02_03:04:05', '2024-01-02 03:04:5x'],
  },
  tstz: {
    ordinary: ['2024-01-02T03:04:05Z', '2024-01-02t03:04:05.25z', '2024-01-02 03:04:05.000001Z', '2024-01-02 03:04:05.5+05:30', '2024-01-02 03:04:05-09:30', '2024-01-02 03:04:05+14:00', '0001-01-01 00:00:00Z', '9999-12-31 23:59:59.999999Z', null],
    odd: ['2024-01-02 03:04:05', '2024-01-02 03:04:05ZZ', '2024-01-02 03:04:05.Z', '2024-02-30 00:00:00Z', '0001-01-01 00:30:00+01:00', '2024-01-02 03:04:05-0800', '2024-01-02 03:04:05+02', 'x', 2460000.5],
  },
  d: {
    ordinary: ['2024-01-02', '0001-01-01', '9999-12-31', '2000-01-01', '1999-12-31', null],
    odd: ['2024-01-02 00:00:00', '2024-01-02 10:00:00', '2024-02-30', 20240102n, 2451545.0, 'x'],
  },
  ep: {
    ordinary: [1_700_000_000n, 0n, -1n, 946_684_800n, null],
    odd: [1.5, 1.0000005, 253_402_300_799n, 253_402_300_800n, -62_135_596_800n, -62_135_596_801n, '1700000000', 'x', Buffer.from([1])],
  },
};

const COLUMNS = ['i64', 'i32', 'i16', 'dbl', 'txt', 'vc', 'blob', 'flag', 'js', 'u', 'num', 'num2', 'ts', 'tstz', 'd', 'ep'];
const ROWS = 3000;


function fill(db: import('better-sqlite3').Database): void {
  const ins = db.prepare(`INSERT INTO simple VALUES (${['?', ...COLUMNS.map(() => '?')].join(', ')})`);
  const raw = db.prepare('UPDATE simple SET txt = CAST(? AS TEXT) WHERE id = ?');
  const rnd = seededRandom(6); // a failure names the same rows every time
  for (let i = 1; i <= ROWS; i++) {
    const row: V[] = COLUMNS.map((c) => {
      const pool = rnd() < 0.9 ? VALUES[c]!.ordinary : VALUES[c]!.odd;
      return pool[Math.floor(rnd() * pool.length)]!;
    });
    ins.run(BigInt(i), ...row);
    // Text that is not UTF-8 (SQLite stores the bytes as they come): it must be rejected.
    if (row[4] === INVALID_UTF8) raw.run(INVALID_UTF8, BigInt(i));
  }
}

describe('binary COPY stores what COPY text stores', () => {
  let tdb: TestDatabase;
  let client: pg.Client;
  let sqlite: SqliteDb;
  let plan: MigrationPlan;
  const dir = tempDir('binary-copy');

  async function load(t: TablePlan, target: string, b: EncodedBatch): Promise<void> {
    const into = { ...t, target };
    await client.query(createTableSql('public', into));
    if (b.copied > 0) await pipeline(Readable.from([Buffer.from(b.payload)]), client.query(copyFrom(copyFromSql('public', into, t.columns, b.format))));
  }

  async function dump(table: string): Promise<Buffer> {
    const parts: Buffer[] = [];
    const stream = client.query(copyTo(`COPY (SELECT * FROM "${table}" ORDER BY id) TO STDOUT (FORMAT binary)`));
    for await (const c of stream) parts.push(c as Buffer);
    return Buffer.concat(parts);
  }

  beforeAll(async () => {
    tdb = await createTestDatabase('binary_copy');
    client = new pg.Client({ connectionString: tdb.url });
    await client.connect();
    const file = makeSqlite(dir, 'values.db', SQL, fill);
    plan = planFromFile(file, { map: MAP });
    sqlite = openSource(file);
  });

  afterAll(async () => {
    sqlite?.close();
    await client?.end().catch(() => undefined);
    await tdb?.drop();
  });

  it.each([['in one batch', ROWS], ['in batches of 97 rows', 97]])('every type, every storage class, rejects included (%s)', async (_, batchRows) => {
    const t = plan.tables.find((x) => x.source === 'simple')!;
    const asText = new ChunkEncoder(sqlite, t, new PayloadPool(), { format: 'text' });
    const asBinary = new ChunkEncoder(sqlite, t, new PayloadPool());
    expect(asText.format).toBe('text');
    expect(asBinary.format).toBe('binary');
    const suffix = `_${batchRows}`;
    for (const name of ['t_text', 't_binary']) await client.query(createTableSql('public', { ...t, target: name + suffix }));
    let after = null;
    let batches = 0;
    const rejects: { text: unknown[]; binary: unknown[] } = { text: [], binary: [] };
    let copied = 0;
    for (;;) {
      const bt = asText.next(after, null, batchRows);
      const bb = asBinary.next(after, null, batchRows);
      if (bt === null) {
        expect(bb).toBeNull();
        break;
      }
      expect(bb).not.toBeNull();
      expect(bb!.format).toBe('binary');
      expect(bb!.rows).toBe(bt.rows);
      expect(bb!.copied).toBe(bt.copied);
      expect(bb!.rejectedRows).toBe(bt.rejectedRows);
      expect(bb!.lastKey).toEqual(bt.lastKey);
      rejects.text.push(...bt.rejects);
      rejects.binary.push(...bb!.rejects);
      copied += bt.copied;
      for (const [name, b] of [['t_text', bt], ['t_binary', bb!]] as const) {
        if (b.copied > 0) {
          const into = { ...t, target: name + suffix };
          await pipeline(Readable.from([Buffer.from(b.payload)]), client.query(copyFrom(copyFromSql('public', into, t.columns, b.format))));
        }
      }
      after = bt.lastKey;
      batches++;
    }
    expect(batches).toBe(Math.ceil(ROWS / batchRows));
    expect(rejects.binary).toEqual(rejects.text);
    // The mix must exercise both outcomes a lot.
    expect(copied).toBeGreaterThan(ROWS / 10);
    expect(rejects.text.length).toBeGreaterThan(50);
    const count = await client.query(`SELECT count(*)::int AS n FROM "t_binary${suffix}"`);
    expect(count.rows[0].n).toBe(copied);
    const [a, b] = [await dump(`t_text${suffix}`), await dump(`t_binary${suffix}`)];
    expect(b.length).toBe(a.length);
    expect(b.equals(a)).toBe(true);
  });

  it('a binary batch with every row rejected is still a complete COPY stream', async () => {
    const t = plan.tables.find((x) => x.source === 'simple')!;
    const only = { ...t, columns: t.columns.filter((c) => c.source === 'i16') };
    // Rows whose i16 is out of range, one by one.
    const bad = (sqlite.prepare(`SELECT id FROM simple WHERE typeof(i16) = 'integer' AND abs(i16) > 32768 LIMIT 1`).pluck().get() as bigint | undefined) ?? null;
    expect(bad).not.toBeNull();
    const b = new ChunkEncoder(sqlite, only, new PayloadPool()).next([{ t: 'i', v: String(bad! - 1n) }], [{ t: 'i', v: String(bad) }], 10)!;
    expect(b.format).toBe('binary');
    expect(b.copied).toBe(0);
    expect(b.rejectedRows).toBe(1);
    await load(only, 'all_rejected', b);
    await pipeline(Readable.from([Buffer.from(b.payload)]), client.query(copyFrom(copyFromSql('public', { ...only, target: 'all_rejected' }, only.columns, 'binary'))));
    expect((await client.query('SELECT count(*)::int AS n FROM all_rejected')).rows[0].n).toBe(0);
  });
});
