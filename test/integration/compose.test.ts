/**
 * docker-compose.yml cannot run here (no Docker daemon), so it is validated
 * with `docker-compose config` (Debian package docker-compose; .ci/run installs
 * it) and its structure is checked. Skipped, loudly, only when the binary is
 * missing.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEV_SERVER_DYNAMIC_CONFIG } from '../../src/dev/temporal-server';

const root = path.resolve(__dirname, '../..');
const composeFile = path.join(root, 'docker-compose.yml');

function findCompose(): string[] | null {
  if (spawnSync('docker-compose', ['version'], { stdio: 'ignore' }).status === 0) return ['docker-compose'];
  if (spawnSync('docker', ['compose', 'version'], { stdio: 'ignore' }).status === 0) return ['docker', 'compose'];
  return null;
}

const compose = findCompose();
if (!compose) {
  console.warn(
    'SKIPPING test/integration/compose.test.ts: no docker-compose binary (apt-get install docker-compose; .ci/run does).',
  );
}

// The environment must not leak into the interpolated file.
const cleanEnv = Object.fromEntries(
  Object.entries(process.env).filter(
    ([k]) => !/^(TEMPORAL_|CUTOVER_|POSTGRES_|LOG_LEVEL$|DATABASE_URL$|TEST_DATABASE_URL$|COMPOSE_)/.test(k),
  ),
);

function run(args: string[]): string {
  const [cmd, ...pre] = compose!;
  return execFileSync(cmd!, [...pre, '--project-directory', root, '-f', composeFile, ...args], {
    cwd: root,
    env: cleanEnv,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

interface Service {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  environment?: Record<string, string | null>;
  depends_on?: Record<string, { condition: string }> | string[];
  healthcheck?: { test: string[] | string };
  volumes?: Array<string | { target: string; source?: string; type?: string }>;
}
interface ComposeConfig {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

/** The resolved configuration as JSON (compose v2: --format json; v1 is Python with PyYAML). */
function resolvedConfig(): ComposeConfig {
  try {
    return JSON.parse(run(['config', '--format', 'json'])) as ComposeConfig;
  } catch {
    const yamlText = run(['config']);
    const json = execFileSync(
      'python3',
      ['-c', 'import json,sys,yaml; print(json.dumps(yaml.safe_load(sys.stdin)))'],
      { input: yamlText, encoding: 'utf8' },
    );
    return JSON.parse(json) as ComposeConfig;
  }
}

function dependsOn(service: Service): Record<string, string> {
  const d = service.depends_on ?? {};
  if (Array.isArray(d)) return Object.fromEntries(d.map((n) => [n, 'service_started']));
  return Object.fromEntries(Object.entries(d).map(([n, v]) => [n, v.condition]));
}

describe.skipIf(!compose)('docker-compose.yml', () => {
  it('is valid (`docker-compose config -q`), also with .env.example', () => {
    expect(() => run(['config', '-q'])).not.toThrow();
    expect(() => run(['--env-file', path.join(root, '.env.example'), 'config', '-q'])).not.toThrow();
  });

  it('runs PostgreSQL 16, Temporal on PostgreSQL, the Temporal UI and the worker, with health checks', () => {
    const cfg = resolvedConfig();
    const s = cfg.services;
    expect(Object.keys(s)).toEqual(expect.arrayContaining(['postgres', 'temporal', 'temporal-ui', 'worker']));

    expect(s.postgres!.image).toMatch(/^postgres:16/);
    expect(s.temporal!.image).toMatch(/^temporalio\/(auto-setup|server):/);
    expect(s.temporal!.environment?.DB).toMatch(/^postgres/);
    expect(s.temporal!.environment?.POSTGRES_SEEDS).toBe('postgres');
    // Separate databases for the target and Temporal's persistence.
    const targetDb = s.postgres!.environment?.POSTGRES_DB;
    expect(targetDb).toBeTruthy();
    expect(s.temporal!.environment?.DBNAME).toBeTruthy();
    expect(s.temporal!.environment?.DBNAME).not.toBe(targetDb);
    expect(s['temporal-ui']!.image).toMatch(/^temporalio\/ui:/);
    expect(s['temporal-ui']!.environment?.TEMPORAL_ADDRESS).toBe('temporal:7233');

    for (const name of ['postgres', 'temporal', 'temporal-ui', 'worker']) {
      expect(s[name]!.healthcheck?.test, `${name} health check`).toBeTruthy();
    }

    expect(dependsOn(s.temporal!)).toMatchObject({ postgres: 'service_healthy' });
    expect(dependsOn(s['temporal-ui']!)).toMatchObject({ temporal: 'service_healthy' });
    expect(dependsOn(s.worker!)).toMatchObject({ postgres: 'service_healthy', temporal: 'service_healthy' });
  });

  it("gives Temporal the dev server's transfer queue rate through a mounted dynamic config file", () => {
    const t = resolvedConfig().services.temporal!;
    const file = t.environment?.DYNAMIC_CONFIG_FILE_PATH;
    expect(file).toBe('config/dynamicconfig/cutover.yaml');
    // auto-setup resolves the path from /etc/temporal; the file is this repository's.
    const mount = (t.volumes ?? [])
      .map((v) => (typeof v === 'string' ? { source: v.split(':')[0]!, target: v.split(':')[1]! } : { source: v.source ?? '', target: v.target }))
      .find((v) => v.target === `/etc/temporal/${file}`);
    expect(mount).toBeTruthy();
    const local = path.resolve(root, mount!.source);
    expect(local).toBe(path.join(root, 'deploy/temporal/dynamicconfig.yaml'));
    const parsed = JSON.parse(
      execFileSync('python3', ['-c', 'import json,sys,yaml; print(json.dumps(yaml.safe_load(sys.stdin)))'], { input: fs.readFileSync(local, 'utf8'), encoding: 'utf8' }),
    ) as Record<string, { value: unknown }[]>;
    expect(parsed['history.transferProcessorMaxPollRPS']).toEqual([{ value: DEV_SERVER_DYNAMIC_CONFIG['history.transferProcessorMaxPollRPS'], constraints: {} }]);
    expect(parsed['system.forceSearchAttributesCacheRefreshOnRead']?.[0]?.value).toBe(true);
  });

  it('builds the worker from the Dockerfile and mounts the source files at /data', () => {
    const w = resolvedConfig().services.worker!;
    expect(w.build).toBeTruthy();
    expect(fs.existsSync(path.join(root, 'Dockerfile'))).toBe(true);
    const command = Array.isArray(w.command) ? w.command.join(' ') : (w.command ?? '');
    expect(command).toMatch(/bin\/cutover\.js worker/);
    const targets = (w.volumes ?? []).map((v) => (typeof v === 'string' ? v.split(':')[1] : v.target));
    expect(targets).toContain('/data');
    const env = w.environment ?? {};
    expect(env.TEMPORAL_ADDRESS).toBe('temporal:7233');
    expect(env.CUTOVER_TASK_QUEUE).toBe('cutover');
    expect(env.CUTOVER_TARGET_URL).toMatch(/^postgres(ql)?:\/\/.*@postgres:5432\//);
  });

  it('.env.example documents every variable, each with a comment', () => {
    const lines = fs.readFileSync(path.join(root, '.env.example'), 'utf8').split('\n');
    const documented = new Map<string, boolean>();
    lines.forEach((line, i) => {
      const m = /^([A-Z][A-Z0-9_]*)=/.exec(line);
      if (m) documented.set(m[1]!, i > 0 && /^#\s*\S/.test(lines[i - 1]!.trim()));
    });
    const required = [
      'TEMPORAL_ADDRESS',
      'TEMPORAL_NAMESPACE',
      'CUTOVER_TASK_QUEUE',
      'CUTOVER_TARGET_URL',
      'CUTOVER_STATE_DIR',
      'TEST_DATABASE_URL',
      'TEMPORAL_CLI_PATH',
      'DATABASE_URL',
      'CUTOVER_METRICS_PORT',
      'LOG_LEVEL',
    ];
    // Every variable docker-compose.yml interpolates, too.
    const composeText = fs.readFileSync(composeFile, 'utf8');
    const interpolated = [...composeText.matchAll(/(?<!\$)\$\{([A-Z][A-Z0-9_]*)/g)].map((m) => m[1]!);
    for (const name of new Set([...required, ...interpolated])) {
      expect(documented.has(name), `${name} in .env.example`).toBe(true);
      expect(documented.get(name), `${name} has a comment line above it`).toBe(true);
    }
    expect([...documented.keys()].some((k) => k.startsWith('CUTOVER_TARGET_URL_')), 'CUTOVER_TARGET_URL_<NAME>').toBe(true);
  });
});
