// Configuration, resolved once into a frozen object: defaults, then the
// environment, then command-line flags.
import path from 'node:path';

export interface Config {
  /** host:port of an existing Temporal frontend; null = bring up the embedded stack. */
  temporalAddress: string | null;
  namespace: string;
  taskQueue: string;
  /** Where the embedded stack keeps its state (Temporal history, embedded PostgreSQL). */
  stateDir: string;
  /** Prometheus metrics port for the worker; null = off. */
  metricsPort: number | null;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  tls: { enabled: boolean; certPath: string | null; keyPath: string | null; caPath: string | null; serverName: string | null };
  apiKey: string | null;
}

export interface ConfigFlags {
  temporalAddress?: string;
  namespace?: string;
  taskQueue?: string;
  stateDir?: string;
  metricsPort?: string | number;
}

/** Each setting with the flag and the variable that set it: errors name both. */
export const SETTINGS = {
  temporalAddress: { flag: '--temporal-address', env: 'TEMPORAL_ADDRESS' },
  namespace: { flag: '--namespace', env: 'TEMPORAL_NAMESPACE' },
  taskQueue: { flag: '--task-queue', env: 'CUTOVER_TASK_QUEUE' },
  stateDir: { flag: '--state-dir', env: 'CUTOVER_STATE_DIR' },
  metricsPort: { flag: '--metrics-port', env: 'CUTOVER_METRICS_PORT' },
} as const;

export class ConfigError extends Error {}

function pick(flag: string | number | undefined, env: string | undefined): string | undefined {
  if (flag !== undefined && flag !== '') return String(flag);
  if (env !== undefined && env !== '') return env;
  return undefined;
}

export function resolveConfig(flags: ConfigFlags = {}, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Readonly<Config> {
  const metrics = pick(flags.metricsPort, env.CUTOVER_METRICS_PORT);
  let metricsPort: number | null = null;
  if (metrics !== undefined) {
    metricsPort = Number(metrics);
    if (!Number.isInteger(metricsPort) || metricsPort < 0 || metricsPort > 65535) {
      throw new ConfigError(`metrics port "${metrics}" is not a port number (set by ${SETTINGS.metricsPort.flag} or ${SETTINGS.metricsPort.env})`);
    }
  }
  const level = (env.LOG_LEVEL ?? 'info').toLowerCase();
  if (!['debug', 'info', 'warn', 'error'].includes(level)) throw new ConfigError(`LOG_LEVEL "${env.LOG_LEVEL}" must be debug, info, warn or error`);
  return Object.freeze({
    temporalAddress: pick(flags.temporalAddress, env.TEMPORAL_ADDRESS) ?? null,
    namespace: pick(flags.namespace, env.TEMPORAL_NAMESPACE) ?? 'default',
    taskQueue: pick(flags.taskQueue, env.CUTOVER_TASK_QUEUE) ?? 'cutover',
    stateDir: path.resolve(cwd, pick(flags.stateDir, env.CUTOVER_STATE_DIR) ?? '.cutover'),
    metricsPort,
    logLevel: level as Config['logLevel'],
    tls: Object.freeze({
      enabled: Boolean(env.TEMPORAL_TLS_CERT || env.TEMPORAL_TLS === 'true' || env.TEMPORAL_API_KEY),
      certPath: env.TEMPORAL_TLS_CERT || null,
      keyPath: env.TEMPORAL_TLS_KEY || null,
      caPath: env.TEMPORAL_TLS_CA || null,
      serverName: env.TEMPORAL_TLS_SERVER_NAME || null,
    }),
    apiKey: env.TEMPORAL_API_KEY || null,
  });
}
