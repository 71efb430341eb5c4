// Connection settings, read like linectl reads them: every setting has the
// same environment variable as linectl; what the caller passes wins.
import * as fs from 'node:fs';
import * as grpc from '@grpc/grpc-js';

export const DEFAULT_SERVER = '127.0.0.1:50051';

export interface Config {
  /** "host:port"; default $LINEBRIDGE_SERVER (first of a comma-separated list), else 127.0.0.1:50051. */
  server: string;
  /** TLS against the system roots ($LINEBRIDGE_TLS=1). Any tls* setting implies it. */
  tls: boolean;
  /** CA bundle (PEM file) the server certificate is verified against ($LINEBRIDGE_TLS_CA). */
  tlsCa?: string;
  /** Client certificate and key (PEM files) for mutual TLS ($LINEBRIDGE_TLS_CERT, $LINEBRIDGE_TLS_KEY). */
  tlsCert?: string;
  tlsKey?: string;
  /** The name the server certificate carries, when it is not the host ($LINEBRIDGE_TLS_SERVER_NAME). */
  tlsServerName?: string;
  /** File whose first line is a bearer token ($LINEBRIDGE_TOKEN_FILE). */
  tokenFile?: string;
  /** The bearer token itself ($LINEBRIDGE_TOKEN). */
  token?: string;
  /** Deadline of each unary RPC in milliseconds (default 5000). */
  timeoutMs: number;
}

const env = (name: string): string | undefined => process.env[name] || undefined;

/** The environment's settings with `overrides` (undefined values ignored) on top. */
export function configFromEnv(overrides: Partial<Config> = {}): Config {
  const config: Config = {
    server: (env('LINEBRIDGE_SERVER') ?? DEFAULT_SERVER).split(',')[0],
    tls: !['', '0', 'false', 'no'].includes(process.env.LINEBRIDGE_TLS ?? ''),
    tlsCa: env('LINEBRIDGE_TLS_CA'),
    tlsCert: env('LINEBRIDGE_TLS_CERT'),
    tlsKey: env('LINEBRIDGE_TLS_KEY'),
    tlsServerName: env('LINEBRIDGE_TLS_SERVER_NAME'),
    tokenFile: env('LINEBRIDGE_TOKEN_FILE'),
    token: env('LINEBRIDGE_TOKEN'),
    timeoutMs: 5000,
  };
  for (const [key, value] of Object.entries(overrides)) {
    if (value !== undefined) (config as unknown as Record<string, unknown>)[key] = value;
  }
  if (Boolean(config.tlsCert) !== Boolean(config.tlsKey)) {
    throw new Error('tlsCert needs tlsKey (and the other way round)');
  }
  return config;
}

/** The bearer token: from tokenFile if set, else token. */
export function bearerToken(config: Config): string | undefined {
  if (config.tokenFile) {
    const first = fs.readFileSync(config.tokenFile, 'utf8').split('\n')[0].trim();
    if (!first) throw new Error(`token file ${config.tokenFile} is empty`);
    return first;
  }
  return config.token;
}

export function usesTls(config: Config): boolean {
  return Boolean(config.tls || config.tlsCa || config.tlsCert || config.tlsServerName);
}

/** Credentials and channel options for a grpc-js client. */
export function channelParts(config: Config): {
  credentials: grpc.ChannelCredentials;
  options: grpc.ChannelOptions;
} {
  const options: grpc.ChannelOptions = {
    'grpc.max_receive_message_length': 64 * 1024 * 1024,
    // Reconnect quickly after a server restart.
    'grpc.initial_reconnect_backoff_ms': 100,
    'grpc.max_reconnect_backoff_ms': 2000,
  };
  if (!usesTls(config)) return { credentials: grpc.credentials.createInsecure(), options };
  const read = (file?: string) => (file ? fs.readFileSync(file) : null);
  if (config.tlsServerName) {
    options['grpc.ssl_target_name_override'] = config.tlsServerName;
    options['grpc.default_authority'] = config.tlsServerName;
  }
  return {
    credentials: grpc.credentials.createSsl(read(config.tlsCa), read(config.tlsKey),
      read(config.tlsCert)),
    options,
  };
}
