// Which PostgreSQL and network errors are worth retrying. One map, so a new
// transient condition is added in one place.

/** SQLSTATEs that a retry (after backoff) can get past. */
export const RETRYABLE_SQLSTATES: Readonly<Record<string, string>> = Object.freeze({
  '08000': 'connection exception',
  '08001': 'cannot establish connection',
  '08003': 'connection does not exist',
  '08004': 'server rejected the connection',
  '08006': 'connection failure',
  '40001': 'serialization failure',
  '40P01': 'deadlock detected',
  '53000': 'insufficient resources',
  '53100': 'disk full',
  '53200': 'out of memory',
  '53300': 'too many connections',
  '55P03': 'lock not available',
  '57014': 'query canceled',
  '57P01': 'admin shutdown',
  '57P02': 'crash shutdown',
  '57P03': 'cannot connect now (starting up or shutting down)',
});

/** Node socket errors seen when PostgreSQL restarts or the network blips. */
export const RETRYABLE_NET_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/** SQLSTATE classes that mean "this value/row is bad": isolate the row, reject it, go on. */
export function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}

/**
 * Errors no retry can fix: SQL the target cannot run (class 42: missing
 * object, no privilege), failed authentication (28), a missing database (3D).
 */
export function isPermanent(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && (code.startsWith('42') || code.startsWith('28') || code.startsWith('3D') || code.startsWith('0A'));
}

export function isRetryable(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  if (typeof code === 'string' && (code in RETRYABLE_SQLSTATES || RETRYABLE_NET_CODES.has(code))) return true;
  const msg = String((err as Error)?.message ?? '');
  return /Connection terminated|connection closed|server closed the connection|timeout expired|not queryable|connection error/i.test(msg);
}

export function describePgError(err: unknown): string {
  const e = err as { code?: string; message?: string; detail?: string; where?: string };
  const code = e?.code ? ` [${e.code}${RETRYABLE_SQLSTATES[e.code] ? `: ${RETRYABLE_SQLSTATES[e.code]}` : ''}]` : '';
  return `${e?.message ?? String(err)}${code}${e?.detail ? ` (${e.detail})` : ''}`;
}
