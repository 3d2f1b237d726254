// Connections to Temporal for clients (CLI) and workers, with TLS / API key
// for real clusters.
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { readFileSync } from 'node:fs';
import type { Config } from '../config';

function tlsOptions(cfg: Config) {
  if (!cfg.tls.enabled) return undefined;
  return {
    serverNameOverride: cfg.tls.serverName ?? undefined,
    serverRootCACertificate: cfg.tls.caPath ? readFileSync(cfg.tls.caPath) : undefined,
    clientCertPair:
      cfg.tls.certPath && cfg.tls.keyPath ? { crt: readFileSync(cfg.tls.certPath), key: readFileSync(cfg.tls.keyPath) } : undefined,
  };
}

export async function connectClient(cfg: Config, address: string): Promise<Client> {
  const connection = await Connection.connect({ address, tls: tlsOptions(cfg), apiKey: cfg.apiKey ?? undefined });
  return new Client({ connection, namespace: cfg.namespace });
}

export function connectWorker(cfg: Config, address: string): Promise<NativeConnection> {
  return NativeConnection.connect({ address, tls: tlsOptions(cfg), apiKey: cfg.apiKey ?? undefined });
}
