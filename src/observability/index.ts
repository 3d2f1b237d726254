// Structured logs and Prometheus metrics for the worker. See docs/runbook.md ("Logs and metrics").
export { JsonLogger, formatLine, lineLogger, parseLevel, redact, sanitize, type JsonLoggerOptions, type LevelName } from './log';
export { METRICS, chunkMetrics, installRuntime, instrumentActivities, runtimeConfigFromArgv, type ChunkMetrics, type ChunkOutcome, type InstalledRuntime, type RuntimeConfig } from './metrics';
