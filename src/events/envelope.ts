import * as z from 'zod';
import { EVENT_ID_PATTERN, TENANT_ID_PATTERN, TRACE_ID_PATTERN } from './ids.js';
import { EVENT_TYPES, PAYLOAD_SCHEMAS, type EventType, type PayloadInputOf, type PayloadOf } from './payloads.js';

/** The envelope version this build writes. Older versions are read through upcasters (./upcast.ts), never rewritten. */
export const SCHEMA_VERSION = 1 as const;

const eventId = z.string().regex(EVENT_ID_PATTERN, 'must be a UUID');
const timestamp = z.iso.datetime({ offset: true });
const spanId = z.string().min(1).max(128);

const newEnvelope = {
  schemaVersion: z.literal(SCHEMA_VERSION).default(SCHEMA_VERSION),
  eventId,
  timestamp,
  parentEventId: eventId.optional(),
  spanId: spanId.optional(),
};

const storedEnvelope = {
  schemaVersion: z.literal(SCHEMA_VERSION),
  eventId,
  tenantId: z.string().regex(TENANT_ID_PATTERN),
  traceId: z.string().regex(TRACE_ID_PATTERN),
  seq: z.number().int().nonnegative(),
  timestamp,
  parentEventId: eventId.optional(),
  spanId: spanId.optional(),
  /** sha256 of the previous event in this trace ("0"×64 for seq 0): the hash chain `retrace verify` checks */
  prevHash: z.string().regex(/^[0-9a-f]{64}$/),
  /** sha256 over prevHash and the canonical JSON of this event without `hash` */
  hash: z.string().regex(/^[0-9a-f]{64}$/),
};

function variants<E extends Record<string, z.ZodType>>(envelope: E) {
  return EVENT_TYPES.map((type) =>
    z.object({ ...envelope, type: z.literal(type), payload: PAYLOAD_SCHEMAS[type] }),
  ) as unknown as [z.ZodObject, ...z.ZodObject[]];
}

/** What a writer hands to `EventStore.append`: the store assigns tenantId, traceId, seq and the hash chain. */
export const NewEventSchema = z.discriminatedUnion('type', variants(newEnvelope));
/** What `EventStore.read` yields: the full envelope, validated again on read. */
export const StoredEventSchema = z.discriminatedUnion('type', variants(storedEnvelope));

interface NewEnvelopeFields {
  schemaVersion?: typeof SCHEMA_VERSION;
  eventId: string;
  timestamp: string;
  parentEventId?: string | undefined;
  spanId?: string | undefined;
}
interface StoredEnvelopeFields {
  schemaVersion: typeof SCHEMA_VERSION;
  eventId: string;
  tenantId: string;
  traceId: string;
  seq: number;
  timestamp: string;
  parentEventId?: string | undefined;
  spanId?: string | undefined;
  prevHash: string;
  hash: string;
}

// The schemas above are built from a loop, so their inferred types are loose; these mapped types give every caller
// a precise discriminated union (narrowing on `type` narrows `payload`).
export type NewEvent = { [T in EventType]: NewEnvelopeFields & { type: T; payload: PayloadInputOf<T> } }[EventType];
export type StoredEvent = { [T in EventType]: StoredEnvelopeFields & { type: T; payload: PayloadOf<T> } }[EventType];
export type StoredEventOf<T extends EventType> = Extract<StoredEvent, { type: T }>;
/** A validated new event (defaults applied) */
export type ParsedNewEvent = {
  [T in EventType]: Required<Pick<NewEnvelopeFields, 'schemaVersion'>> &
    NewEnvelopeFields & { type: T; payload: PayloadOf<T> };
}[EventType];

export const GENESIS_HASH = '0'.repeat(64);

/**
 * The part of a stored event a writer supplies (for import, restore and ci): the target store re-derives tenant,
 * trace, seq and the hash chain, and the same content in the same order gives the same hashes.
 */
export function toNewEvent(e: StoredEvent): NewEvent {
  return {
    schemaVersion: e.schemaVersion,
    eventId: e.eventId,
    timestamp: e.timestamp,
    type: e.type,
    payload: e.payload,
    ...(e.parentEventId !== undefined ? { parentEventId: e.parentEventId } : {}),
    ...(e.spanId !== undefined ? { spanId: e.spanId } : {}),
  } as NewEvent;
}
