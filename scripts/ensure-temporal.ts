/**
 * Makes sure a `temporal` CLI binary is available (see src/dev/temporal-binary.ts):
 * TEMPORAL_CLI_PATH, PATH, the user cache, else `go install` (~4 min, once), else a download.
 * Prints the path on stdout; progress goes to stderr.
 *
 *   node --require tsx/cjs scripts/ensure-temporal.ts
 */
import { resolveTemporalBinary, temporalVersion } from '../src/dev/temporal-binary';

resolveTemporalBinary({ log: (m) => process.stderr.write(`[ensure-temporal] ${m}\n`) }).then(
  (bin) => {
    const version = bin.source === 'download' ? 'downloaded' : (temporalVersion(bin.path) ?? 'unknown version');
    process.stderr.write(`[ensure-temporal] using ${bin.path} (${bin.source}; ${version})\n`);
    process.stdout.write(`${bin.path}\n`);
  },
  (err: unknown) => {
    process.stderr.write(`[ensure-temporal] ${(err as Error).message}\n`);
    process.exit(1);
  },
);
