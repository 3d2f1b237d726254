// Streams one batch, already encoded in COPY text format, into a table.
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export async function copyIn(client: pg.ClientBase, copySql: string, payload: string | Buffer): Promise<void> {
  const sink = client.query(copyFrom(copySql));
  await pipeline(Readable.from([payload]), sink);
}
