// TapiError: a failed RPC with its canonical code and LINEERR_* value.
//
// The server puts a google.rpc.Status in the "grpc-status-details-bin"
// trailer; its details carry a linebridge.v1.TapiError. Decoded here with
// protobufjs from the package's proto files.
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protobuf from 'protobufjs';

export const PROTO_DIR = path.resolve(__dirname, '..', 'proto');
const DETAILS_KEY = 'grpc-status-details-bin';

let root: protobuf.Root | undefined;
function types(): { status: protobuf.Type; tapiError: protobuf.Type } {
  if (!root) {
    root = new protobuf.Root();
    root.resolvePath = (_origin, target) =>
      target.startsWith('google/protobuf/') ? target : path.join(PROTO_DIR, target);
    root.loadSync(['google/rpc/status.proto', 'linebridge/v1/types.proto']);
  }
  return {
    status: root.lookupType('google.rpc.Status'),
    tapiError: root.lookupType('linebridge.v1.TapiError'),
  };
}

export interface TapiErrorDetail {
  /** The LINEERR_* value, e.g. 0x8000001C. */
  lineerr: number;
  /** "LINEERR_INVALCALLSTATE" (a phone RPC: "PHONEERR_INUSE"). */
  name: string;
  /** The PHONEERR_* value of a phone RPC (lineerr is then 0), else 0. */
  phoneerr: number;
}

/** The TapiError inside a serialized google.rpc.Status, or undefined. */
export function decodeDetails(details: Uint8Array): TapiErrorDetail | undefined {
  const { status, tapiError } = types();
  const decoded = status.toObject(status.decode(details), { defaults: true }) as {
    details: { type_url?: string; typeUrl?: string; value: Uint8Array }[];
  };
  for (const any of decoded.details) {
    const url = any.type_url ?? any.typeUrl ?? '';
    if (url.split('/').pop() === 'linebridge.v1.TapiError') {
      const err = tapiError.toObject(tapiError.decode(any.value), { defaults: true });
      return { lineerr: err.lineerr >>> 0, name: err.name, phoneerr: (err.phoneerr ?? 0) >>> 0 };
    }
  }
  return undefined;
}

/** The TapiError detail of a grpc-js error (its trailing metadata), or undefined. */
export function tapiErrorOf(error: { metadata?: grpc.Metadata }): TapiErrorDetail | undefined {
  const value = error.metadata?.get(DETAILS_KEY)[0];
  if (value === undefined || typeof value === 'string') return undefined;
  return decodeDetails(value);
}

/**
 * A failed linebridge RPC: `code` (grpc status number) and `codeName`
 * ("FAILED_PRECONDITION"), the server's `details`, and the TAPI error
 * (`lineerr`, `lineerrName`; 0 and "" when the server sent none, e.g. the
 * network failed; a phone RPC's `phoneerr`, with `lineerr` 0 and
 * `lineerrName` "PHONEERR_…").
 */
export class TapiError extends Error {
  constructor(
    readonly code: grpc.status,
    readonly details: string,
    readonly lineerr = 0,
    readonly lineerrName = '',
    readonly phoneerr = 0,
  ) {
    super(`${details} (${grpc.status[code]}${lineerrName ? ', ' + lineerrName : ''})`);
    this.name = 'TapiError';
  }

  get codeName(): string {
    return grpc.status[this.code];
  }

  static from(error: unknown): TapiError {
    if (error instanceof TapiError) return error;
    const e = error as grpc.ServiceError;
    const detail = tapiErrorOf(e);
    return new TapiError(e.code ?? grpc.status.UNKNOWN, e.details ?? String(error),
      detail?.lineerr ?? 0, detail?.name ?? '', detail?.phoneerr ?? 0);
  }
}
