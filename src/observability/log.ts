// Structured JSON logs for the worker: one JSON object per line, with the run
// id, table and chunk when known, and never a secret. Usable as the Temporal
// Runtime logger (it implements the SDK's Logger interface), so the SDK's own
// lines, workflow `log.*` and activity `log.*` come out in the same shape.
import type { LogLevel, LogMetadata, Logger } from '@temporalio/common';

const LEVELS: Record<LogLevel, number> = { TRACE: 10, DEBUG: 20, INFO: 30, WARN: 40, ERROR: 50 };

export type LevelName = 'trace' | 'debug' | 'info' | 'warn' | 'error';

/** `info`, `INFO` → `INFO`; anything else → `INFO`. */
export function parseLevel(level: string | undefined | null): LogLevel {
  const up = String(level ?? '').toUpperCase();
  return (up in LEVELS ? up : 'INFO') as LogLevel;
}

// postgres://user:secret@host → postgres://user:***@host (any scheme with userinfo).
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/@:'"]*):([^\s/@'"]*)@/gi;
// password=secret, PGPASSWORD=secret, "password": "secret", sslpassword='x', api_key=…
const KEY_VALUE = /\b([a-z0-9_]*?(?:pass(?:word|wd)|secret|api[_-]?key|token))(\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s&;,'"}]+)/gi;
const JSON_KEY_VALUE = /("[a-z0-9_]*?(?:pass(?:word|wd)|secret|api[_-]?key|token)"\s*:\s*)"(?:[^"\\]|\\.)*"/gi;

/**
 * Removes credentials from any string: the password in URLs
 * (`postgres://u:pw@h` → `postgres://u:***@h`), `password=…` / `PGPASSWORD=…`
 * pairs (libpq key/value connection strings, env dumps), and JSON
 * `"password": "…"`. Host, user and database stay: they help on-call.
 */
export function redact(s: string): string {
  return s
    .replace(URL_USERINFO, (_m, scheme: string, user: string) => `${scheme}${user}:***@`)
    .replace(JSON_KEY_VALUE, (_m, head: string) => `${head}"***"`)
    .replace(KEY_VALUE, (_m, key: string, sep: string) => `${key}${sep}***`);
}

const SECRET_KEYS = /^(?:[a-z0-9_]*?(?:pass(?:word|wd)|secret|api[_-]?key|token)|connectionString|url|targetUrl)$/i;

/** Makes any value safe and JSON-serializable: strings redacted, bigint as text, errors as {name,message,type}. */
export function sanitize(value: unknown, depth = 0): unknown {
  if (value === null || value === undefined) return value ?? null;
  if (typeof value === 'string') return redact(value);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'function' || typeof value === 'symbol') return undefined;
  if (depth > 6) return '[…]';
  if (value instanceof Error) {
    const e = value as Error & { type?: string; code?: string; cause?: unknown };
    const out: Record<string, unknown> = { name: e.name, message: redact(e.message) };
    if (e.type) out.type = e.type;
    if (e.code) out.code = e.code;
    if (e.cause) out.cause = sanitize(e.cause, depth + 1);
    return out;
  }
  if (Buffer.isBuffer(value)) return `<${value.length} bytes>`;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.slice(0, 50).map((v) => sanitize(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (SECRET_KEYS.test(k) && typeof v === 'string') {
      out[k] = /^[a-z][a-z0-9+.-]*:\/\//i.test(v) ? redact(v) : '***';
      continue;
    }
    const s = sanitize(v, depth + 1);
    if (s !== undefined) out[k] = s;
  }
  return out;
}

/** One log line's fields, in a stable order: time, level, msg, runId, table, chunk, then the rest. */
export function formatLine(level: LogLevel, message: string, meta: LogMetadata | undefined, base: Record<string, unknown> = {}, now = new Date()): string {
  const m: Record<string, unknown> = { ...base };
  if (meta) for (const k of Object.keys(meta)) m[k] = (meta as Record<string, unknown>)[k];
  // The SDK names the workflow id `workflowId`; for us it is the run id.
  const runId = m.runId ?? m.workflowId;
  const table = m.table ?? (m.chunk as { table?: unknown } | undefined)?.table;
  const chunkRaw = m.chunkNo ?? m.chunk;
  const chunk = typeof chunkRaw === 'object' && chunkRaw !== null ? (chunkRaw as { chunkNo?: unknown }).chunkNo : chunkRaw;
  delete m.runId;
  delete m.table;
  delete m.chunk;
  delete m.chunkNo;
  const line: Record<string, unknown> = {
    time: now.toISOString(),
    level: level.toLowerCase(),
    msg: redact(message),
  };
  if (runId !== undefined) line.runId = sanitize(runId);
  if (table !== undefined) line.table = sanitize(table);
  if (chunk !== undefined) line.chunk = sanitize(chunk);
  // `timestampNanos` (SDK) duplicates `time`; `sdkComponent` stays (it says who logged).
  const sdkTime = m.timestampNanos;
  delete m.timestampNanos;
  const rest = sanitize(m) as Record<string, unknown>;
  for (const [k, v] of Object.entries(rest)) if (v !== undefined && !(k in line)) line[k] = v;
  if (typeof sdkTime === 'bigint') line.time = new Date(Number(sdkTime / 1_000_000n)).toISOString();
  return JSON.stringify(line);
}

export interface JsonLoggerOptions {
  level?: LogLevel | LevelName;
  /** Where lines go (default: process.stderr). Each call gets one line ending in "\n". */
  write?: (line: string) => void;
  /** Fields added to every line (e.g. { service: 'cutover-worker', taskQueue }). */
  base?: Record<string, unknown>;
}

/** The SDK's Logger, writing one JSON object per line. */
export class JsonLogger implements Logger {
  readonly level: LogLevel;
  private readonly write: (line: string) => void;
  private readonly base: Record<string, unknown>;

  constructor(opts: JsonLoggerOptions = {}) {
    this.level = parseLevel(opts.level);
    this.write = opts.write ?? ((line) => process.stderr.write(line));
    this.base = opts.base ?? {};
  }

  enabled(level: LogLevel): boolean {
    return LEVELS[level] >= LEVELS[this.level];
  }

  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    if (!this.enabled(level)) return;
    try {
      this.write(formatLine(level, message, meta, this.base) + '\n');
    } catch {
      // A logger must never take the worker down.
    }
  }

  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }

  /** A logger whose every line carries these fields too (e.g. { runId, table, chunk }). */
  child(fields: Record<string, unknown>): JsonLogger {
    return new JsonLogger({ level: this.level, write: this.write, base: { ...this.base, ...fields } });
  }
}

/** `(msg) => void` for the CLI's `log` callbacks, as JSON lines. */
export function lineLogger(logger: Logger, level: LogLevel = 'INFO'): (msg: string) => void {
  return (msg: string) => logger.log(level, msg);
}
