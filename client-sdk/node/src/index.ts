// @linebridge/client: a Node/TypeScript client for the linebridge.v1 API.
export { Client, LOADER_OPTIONS } from './client';
export { Config, configFromEnv } from './config';
export { TapiError, TapiErrorDetail, decodeDetails, tapiErrorOf, PROTO_DIR } from './errors';
export { EventStream, EventsOptions, Position } from './events';
export type { Call__Output as Call } from './gen/linebridge/v1/Call';
export type { Line__Output as Line } from './gen/linebridge/v1/Line';
export type { Event__Output as Event } from './gen/linebridge/v1/Event';
export type { EventBatch__Output as EventBatch } from './gen/linebridge/v1/EventBatch';
export type { CallRecord__Output as CallRecord } from './gen/linebridge/v1/CallRecord';
export type { Session__Output as Session } from './gen/linebridge/v1/Session';
