// The physical limit of issue 6: `sqlite3 -csv FILE "SELECT …" | psql -c '\copy … csv'`, two
// streams in parallel, into tables pre-created with the column types cutover chooses for the
// bench schema (no keys, no indexes); optionally followed by the same PKs, UNIQUE, index and FKs
// cutover builds, in two parallel sessions.
import fs from 'node:fs';
import path from 'node:path';

export interface PipeTable {
  name: string;
  columns: string[];
  /** CREATE TABLE body: what cutover creates for this table (checked against its output). */
  ddl: string;
}

export const PIPE_TABLES: PipeTable[] = [
  {
    name: 'charts',
    columns: ['id', 'name', 'symbol', 'timeframe', 'created_at', 'is_active'],
    ddl: 'id bigint NOT NULL, name text NOT NULL, symbol text NOT NULL, timeframe text NOT NULL, created_at bigint NOT NULL, is_active bigint NOT NULL DEFAULT 1',
  },
  {
    name: 'candles',
    columns: ['id', 'chart_id', 'time', 'open', 'high', 'low', 'close', 'volume'],
    ddl: 'id bigint NOT NULL, chart_id bigint NOT NULL, "time" bigint NOT NULL, open double precision NOT NULL, high double precision, low double precision, close double precision, volume double precision',
  },
  {
    name: 'annotation_types',
    columns: ['id', 'name', 'color'],
    ddl: "id bigint NOT NULL, name text NOT NULL, color text NOT NULL DEFAULT '#ff0000'",
  },
  {
    name: 'annotations',
    columns: ['id', 'chart_id', 'type_id', 'geometry', 'note', 'created_at', 'is_verified'],
    ddl: 'id bigint NOT NULL, chart_id bigint NOT NULL, type_id bigint, geometry text NOT NULL, note text, created_at bigint NOT NULL, is_verified bigint NOT NULL DEFAULT 0',
  },
  {
    name: 'alerts',
    columns: ['id', 'symbol', 'action', 'qty', 'price', 'created_at', 'payload', 'processed'],
    ddl: 'id bigint NOT NULL, symbol text NOT NULL, action text NOT NULL, qty numeric NOT NULL, price double precision NOT NULL, created_at timestamp NOT NULL, payload text, processed boolean NOT NULL DEFAULT false',
  },
  {
    name: 'log_entries',
    columns: ['id', 'data', 'created_at'],
    ddl: 'id text NOT NULL, data text, created_at text NOT NULL',
  },
];

/** CREATE TABLE statements (run before the timed part). */
export function pipeCreateSql(): string {
  return PIPE_TABLES.map((t) => `CREATE TABLE ${q(t.name)} (${t.ddl});`).join('\n');
}

/** Constraint phases: each phase is two lists run in two parallel sessions. */
export const PIPE_CONSTRAINTS: Array<[string[], string[]]> = [
  [
    ['ALTER TABLE candles ADD PRIMARY KEY (id)', 'CREATE INDEX candles_chart_time_idx ON candles (chart_id, "time")'],
    [
      'ALTER TABLE charts ADD PRIMARY KEY (id)',
      'ALTER TABLE annotation_types ADD PRIMARY KEY (id)',
      'ALTER TABLE annotation_types ADD UNIQUE (name)',
      'ALTER TABLE annotations ADD PRIMARY KEY (id)',
      'ALTER TABLE alerts ADD PRIMARY KEY (id)',
      'ALTER TABLE log_entries ADD PRIMARY KEY (id)',
    ],
  ],
  [
    ['ALTER TABLE candles ADD FOREIGN KEY (chart_id) REFERENCES charts (id) ON DELETE CASCADE'],
    [
      'ALTER TABLE annotations ADD FOREIGN KEY (chart_id) REFERENCES charts (id)',
      'ALTER TABLE annotations ADD FOREIGN KEY (type_id) REFERENCES annotation_types (id)',
    ],
  ],
];

function q(ident: string): string {
  return '"' + ident.replace(/"/g, '""') + '"';
}

function sh(s: string): string {
  return "'" + s.replace(/'/g, "'\\''") + "'";
}

/** Longest-processing-time split of tables over `streams` streams by row count. */
export function splitStreams(rows: Record<string, number>, streams = 2): string[][] {
  const out: string[][] = Array.from({ length: streams }, () => []);
  const load = new Array<number>(streams).fill(0);
  const order = PIPE_TABLES.map((t) => t.name).sort((a, b) => (rows[b] ?? 0) - (rows[a] ?? 0));
  for (const t of order) {
    const i = load.indexOf(Math.min(...load));
    out[i]!.push(t);
    load[i]! += rows[t] ?? 0;
  }
  return out;
}

/** Writes the bash script of one pipe run; returns its path. */
export function writePipeScript(dir: string, opts: { source: string; url: string; rows: Record<string, number>; constraints: boolean }): string {
  const psql = `psql -X -q -v ON_ERROR_STOP=1 ${sh(opts.url)}`;
  const copyOne = (name: string): string => {
    const t = PIPE_TABLES.find((x) => x.name === name)!;
    const cols = t.columns.map(q).join(', ');
    return `sqlite3 -csv ${sh(opts.source)} ${sh(`SELECT ${cols} FROM ${q(t.name)}`)} | ${psql} -c ${sh(`\\copy ${q(t.name)} (${cols}) FROM pstdin WITH (FORMAT csv)`)}`;
  };
  const lines = ['#!/usr/bin/env bash', 'set -euo pipefail'];
  splitStreams(opts.rows).forEach((tables, i) => {
    lines.push(`stream${i}() {`, ...tables.map((t) => `  ${copyOne(t)}`), '}');
  });
  lines.push('stream0 & p0=$!', 'stream1 & p1=$!', 'wait $p0', 'wait $p1');
  if (opts.constraints) {
    for (const [a, b] of PIPE_CONSTRAINTS) {
      lines.push(`${psql} -c ${sh(a.join('; '))} & c0=$!`, `${psql} -c ${sh(b.join('; '))} & c1=$!`, 'wait $c0', 'wait $c1');
    }
  }
  const file = path.join(dir, `pipe-${opts.constraints ? 'idx' : 'noidx'}-${process.pid}-${Date.now()}.sh`);
  fs.writeFileSync(file, lines.join('\n') + '\n', { mode: 0o755 });
  return file;
}
