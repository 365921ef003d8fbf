import * as z from 'zod';
import { NewEventSchema, SCHEMA_VERSION, StoredEventSchema } from './envelope.js';

/**
 * The event format as JSON Schema (draft 2020-12), so recorders in other languages can target it:
 * `NewEvent` is what a writer appends, `StoredEvent` what a store returns and `retrace export` writes (one per line).
 * Generated from the zod schemas, never edited by hand: `npm run schema` rewrites docs/event-schema.json.
 */
export function eventJsonSchema(): Record<string, unknown> {
  const opts = { unrepresentable: 'any' as const };
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: `https://github.com/agent-retrace/retrace/docs/event-schema.json#v${SCHEMA_VERSION}`,
    title: `retrace events, schemaVersion ${SCHEMA_VERSION}`,
    description:
      'NewEvent: what a writer appends (the store assigns tenantId, traceId, seq, prevHash, hash). StoredEvent: what a store returns and `retrace export` writes, one per line.',
    $defs: {
      NewEvent: z.toJSONSchema(NewEventSchema, { ...opts, io: 'input' }),
      StoredEvent: z.toJSONSchema(StoredEventSchema, { ...opts, io: 'output' }),
    },
  };
}
