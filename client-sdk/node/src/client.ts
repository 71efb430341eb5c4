// The client: typed helpers over the generated grpc-js stubs.
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { Config, bearerToken, channelParts, configFromEnv } from './config';
import { PROTO_DIR, TapiError } from './errors';
import { EventStream, EventsOptions } from './events';
import type { ProtoGrpcType as AdminProto } from './gen/admin';
import type { ProtoGrpcType as SecurityProto } from './gen/security';
import type { ProtoGrpcType as TelephonyProto } from './gen/telephony';
import type { AdminClient, AdminDefinition } from './gen/linebridge/v1/Admin';
import type { CallParams } from './gen/linebridge/v1/CallParams';
import type { CallRecord__Output } from './gen/linebridge/v1/CallRecord';
import type { SecurityClient } from './gen/linebridge/v1/Security';
import type { TelephonyClient, TelephonyDefinition } from './gen/linebridge/v1/Telephony';

/**
 * How the proto files are loaded: 64-bit integers as decimal strings (exact;
 * Number would round the epoch), enums as their names, defaults filled in,
 * and `kind` naming the field set in each oneof.
 */
export const LOADER_OPTIONS: protoLoader.Options = {
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_DIR],
};

let loaded: (TelephonyProto & AdminProto & SecurityProto) | undefined;
function api(): TelephonyProto & AdminProto & SecurityProto {
  if (!loaded) {
    const files = ['telephony', 'admin', 'security'].map((f) => path.join('linebridge', 'v1', `${f}.proto`));
    loaded = grpc.loadPackageDefinition(protoLoader.loadSync(files, LOADER_OPTIONS)) as unknown as
      TelephonyProto & AdminProto & SecurityProto;
  }
  return loaded;
}

// The request and response types of a method, from the generated definitions
// (`any` in the positions not inferred: the definition is invariant in them).
/* eslint-disable @typescript-eslint/no-explicit-any */
type RequestOf<D, K extends keyof D> =
  D[K] extends protoLoader.MethodDefinition<infer R, any, any, any> ? R : never;
type ResponseOf<D, K extends keyof D> =
  D[K] extends protoLoader.MethodDefinition<any, any, any, infer R> ? R : never;
/* eslint-enable @typescript-eslint/no-explicit-any */

/**
 * A linebridge client.
 *
 *     const client = new Client();                 // $LINEBRIDGE_SERVER, ...
 *     const client = new Client({ server: 'pbx:50051', tlsCa: 'ca.pem', tokenFile: 'tok' });
 *
 * Every helper resolves to the response message and rejects with TapiError.
 * `sessionId` defaults to `client.sessionId` (set by createSession). The raw
 * stubs are `client.telephony`, `client.admin`, `client.security`; pass
 * `client.metadata()` to them.
 */
export class Client {
  readonly config: Config;
  readonly telephony: TelephonyClient;
  readonly admin: AdminClient;
  readonly security: SecurityClient;
  sessionId = '';
  private readonly token?: string;

  constructor(settings: Partial<Config> = {}) {
    this.config = configFromEnv(settings);
    this.token = bearerToken(this.config);
    const { credentials, options } = channelParts(this.config);
    const v1 = api().linebridge.v1;
    this.telephony = new v1.Telephony(this.config.server, credentials, options);
    // The same channel for all three services.
    const channelOverride = this.telephony.getChannel();
    this.admin = new v1.Admin(this.config.server, credentials, { ...options, channelOverride });
    this.security = new v1.Security(this.config.server, credentials, { ...options, channelOverride });
  }

  /** Call metadata: the bearer token, if any. */
  metadata(): grpc.Metadata {
    const md = new grpc.Metadata();
    if (this.token) md.set('authorization', `Bearer ${this.token}`);
    return md;
  }

  close(): void {
    this.telephony.close();
  }

  private unary<D, K extends keyof D & string>(
    stub: grpc.Client, method: K, request: RequestOf<D, K>,
  ): Promise<ResponseOf<D, K>> {
    return new Promise((resolve, reject) => {
      const fn = (stub as unknown as Record<string, (...args: unknown[]) => grpc.ClientUnaryCall>)[method];
      fn.call(stub, request, this.metadata(), { deadline: Date.now() + this.config.timeoutMs },
        (error: grpc.ServiceError | null, response: ResponseOf<D, K>) => {
          if (error) reject(TapiError.from(error));
          else resolve(response);
        });
    });
  }

  private tel<K extends keyof TelephonyDefinition & string>(method: K, request: RequestOf<TelephonyDefinition, K>) {
    return this.unary<TelephonyDefinition, K>(this.telephony, method, request);
  }

  private adm<K extends keyof AdminDefinition & string>(method: K, request: RequestOf<AdminDefinition, K>) {
    return this.unary<AdminDefinition, K>(this.admin, method, request);
  }

  private sid(sessionId?: string): string {
    return sessionId ?? this.sessionId;
  }

  // -- lines -----------------------------------------------------------------
  async listLines(provider = '') {
    return (await this.tel('ListLines', { provider })).lines;
  }
  getLine(lineId: string) {
    return this.tel('GetLine', { lineId });
  }

  // -- sessions --------------------------------------------------------------
  /** Creates a session (a TAPI application) and makes it the default. */
  async createSession(clientName: string, reclaimSessionId = '') {
    const session = await this.tel('CreateSession', { clientName, reclaimSessionId });
    this.sessionId = session.id;
    return session;
  }
  async closeSession(sessionId?: string) {
    const id = this.sid(sessionId);
    const resp = await this.tel('CloseSession', { sessionId: id });
    if (id === this.sessionId) this.sessionId = '';
    return resp;
  }
  /** Opens a line in the session: as owner (answers its calls) or monitor. */
  openLine(lineId: string, opts: { owner?: boolean; sessionId?: string } = {}) {
    return this.tel('OpenLine', {
      sessionId: this.sid(opts.sessionId), lineId,
      privilege: opts.owner === false ? 'PRIVILEGE_MONITOR' : 'PRIVILEGE_OWNER',
      mediaModes: ['MEDIA_MODE_INTERACTIVE_VOICE'],
    });
  }
  closeLine(lineId: string, sessionId?: string) {
    return this.tel('CloseLine', { sessionId: this.sid(sessionId), lineId });
  }

  // -- calls -----------------------------------------------------------------
  async listCalls(lineId = '') {
    return (await this.tel('ListCalls', { lineId })).calls;
  }
  getCall(callId: string, sessionId?: string) {
    return this.tel('GetCall', { sessionId: this.sid(sessionId), callId });
  }
  makeCall(lineId: string, destination: string, opts: { sessionId?: string; params?: CallParams } = {}) {
    return this.tel('MakeCall', {
      sessionId: this.sid(opts.sessionId), lineId, destination, params: opts.params,
    });
  }
  dial(callId: string, destination: string, sessionId?: string) {
    return this.tel('Dial', { sessionId: this.sid(sessionId), callId, destination });
  }
  accept(callId: string, sessionId?: string) {
    return this.tel('Accept', { sessionId: this.sid(sessionId), callId });
  }
  answer(callId: string, sessionId?: string) {
    return this.tel('Answer', { sessionId: this.sid(sessionId), callId });
  }
  drop(callId: string, sessionId?: string) {
    return this.tel('Drop', { sessionId: this.sid(sessionId), callId });
  }
  hold(callId: string, sessionId?: string) {
    return this.tel('Hold', { sessionId: this.sid(sessionId), callId });
  }
  unhold(callId: string, sessionId?: string) {
    return this.tel('Unhold', { sessionId: this.sid(sessionId), callId });
  }
  redirect(callId: string, destination: string, sessionId?: string) {
    return this.tel('Redirect', { sessionId: this.sid(sessionId), callId, destination });
  }
  blindTransfer(callId: string, destination: string, sessionId?: string) {
    return this.tel('BlindTransfer', { sessionId: this.sid(sessionId), callId, destination });
  }
  generateDigits(callId: string, digits: string, sessionId?: string) {
    return this.tel('GenerateDigits', { sessionId: this.sid(sessionId), callId, digits });
  }

  // -- server ----------------------------------------------------------------
  status() {
    return this.adm('GetServerStatus', {});
  }
  ping(payload: Uint8Array = new Uint8Array()) {
    return this.adm('Ping', { payload: Buffer.from(payload) });
  }
  /** Every call-detail record, newest first (pages through ListCallRecords). */
  async *callRecords(opts: { lineId?: string; pageSize?: number } = {}): AsyncGenerator<CallRecord__Output> {
    let beforeRecordId = '0';
    for (;;) {
      const resp = await this.adm('ListCallRecords', {
        lineId: opts.lineId ?? '', limit: opts.pageSize ?? 100, beforeRecordId,
      });
      for (const record of resp.records) yield record;
      if (resp.nextBeforeRecordId === '0') return;
      beforeRecordId = resp.nextBeforeRecordId;
    }
  }

  // -- events ----------------------------------------------------------------
  /**
   * An async iterable of EventBatch that reconnects and resumes by itself. A
   * batch with `snapshot` set replaces your state (`snapshotReason`:
   * SNAPSHOT_REASON_REQUESTED, _GAP, _EPOCH_CHANGED). `stream.position` is
   * where it would resume; `stream.close()` ends it.
   */
  events(options: EventsOptions = {}): EventStream {
    return new EventStream(this.telephony, () => this.metadata(),
      { ...options, sessionId: options.sessionId ?? this.sessionId });
  }
}
