// An event stream that reconnects and resumes by itself.
//
// The server numbers events (epoch, sequence). After each batch the position
// moves to its last event (or to the snapshot's sequence); a new stream
// resumes from there. If the server no longer holds that point, or restarted
// (new epoch), the first batch is a snapshot, flagged with its reason.
// 64-bit values are decimal strings, exact.
import * as grpc from '@grpc/grpc-js';
import { TapiError } from './errors';
import type { EventBatch__Output } from './gen/linebridge/v1/EventBatch';
import type { SubscribeRequest } from './gen/linebridge/v1/SubscribeRequest';
import type { TelephonyClient } from './gen/linebridge/v1/Telephony';

export interface Position {
  epoch: string;
  sequence: string;
}

export interface EventsOptions {
  lineIds?: string[];
  sessionId?: string;
  /** Where to resume from (a previous stream's `position`). */
  resume?: Position;
  /** Longest wait between reconnection attempts, ms (default 5000). */
  maxBackoffMs?: number;
}

// Codes after which a stream is opened again: the server went away or
// restarted, or cut a slow reader off (resumable by design).
const RETRYABLE = new Set<grpc.status>([
  grpc.status.UNAVAILABLE, grpc.status.RESOURCE_EXHAUSTED, grpc.status.CANCELLED,
  grpc.status.DEADLINE_EXCEEDED, grpc.status.INTERNAL, grpc.status.UNKNOWN, grpc.status.ABORTED,
]);

export class EventStream implements AsyncIterable<EventBatch__Output> {
  position: Position;
  /** How many times the stream was opened again. */
  reconnects = 0;
  private call?: grpc.ClientReadableStream<EventBatch__Output>;
  private closed = false;
  private wake?: () => void;

  constructor(
    private readonly telephony: TelephonyClient,
    private readonly metadata: () => grpc.Metadata,
    private readonly options: EventsOptions = {},
  ) {
    this.position = { ...(options.resume ?? { epoch: '0', sequence: '0' }) };
  }

  /** Ends the stream; a pending iteration finishes. */
  close(): void {
    this.closed = true;
    this.call?.cancel();
    this.wake?.();
  }

  private advance(batch: EventBatch__Output): void {
    this.position.epoch = batch.epoch;
    if (batch.snapshot) this.position.sequence = batch.snapshot.sequence;
    for (const e of batch.events) this.position.sequence = e.sequence;
  }

  private request(): SubscribeRequest {
    return {
      lineIds: this.options.lineIds ?? [],
      sessionId: this.options.sessionId ?? '',
      resumeEpoch: this.position.epoch,
      resumeSequence: this.position.sequence,
    };
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  async *[Symbol.asyncIterator](): AsyncIterator<EventBatch__Output> {
    const maxBackoff = this.options.maxBackoffMs ?? 5000;
    let attempt = 0;
    while (!this.closed) {
      const call = this.telephony.Subscribe(this.request(), this.metadata());
      this.call = call;
      try {
        // A large snapshot comes in parts (`snapshot.more`): they are merged
        // and handed on as one batch.
        let parts: EventBatch__Output['snapshot'] = null;
        for await (const batch of call as AsyncIterable<EventBatch__Output>) {
          attempt = 0;
          const snap = batch.snapshot;
          if (snap) {
            if (parts && parts.sequence === snap.sequence) {
              parts.lines.push(...snap.lines);
              parts.calls.push(...snap.calls);
              parts.phones.push(...snap.phones);
            } else {
              parts = snap;
            }
            if (snap.more) continue;
            batch.snapshot = { ...parts, more: false };
          }
          parts = null;
          this.advance(batch);
          yield batch;
        }
        // The server ended the stream (shutdown): resume on a new one.
      } catch (error) {
        if (this.closed) return;
        const e = TapiError.from(error);
        if (!RETRYABLE.has(e.code)) throw e;
      } finally {
        call.cancel();
      }
      if (this.closed) return;
      const cap = Math.min(maxBackoff, 50 * 2 ** attempt++);
      await this.sleep(cap / 2 + Math.random() * (cap / 2));
      if (this.closed) return;
      this.reconnects++;
    }
  }
}
