import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { eventJsonSchema } from '../../src/events/json-schema.js';
import { EVENT_TYPES } from '../../src/events/payloads.js';

describe('docs/event-schema.json', () => {
  it('is current with the zod schemas (run `npm run schema` after changing them)', () => {
    const onDisk = JSON.parse(
      readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'event-schema.json'), 'utf8'),
    ) as unknown;
    expect(onDisk).toEqual(JSON.parse(JSON.stringify(eventJsonSchema())));
  });

  it('describes every event type for both appending and reading', () => {
    const text = JSON.stringify(eventJsonSchema());
    for (const type of EVENT_TYPES) expect(text).toContain(`"const":"${type}"`);
    const defs = eventJsonSchema().$defs as Record<string, { oneOf?: unknown[] }>;
    expect(defs.NewEvent?.oneOf).toHaveLength(EVENT_TYPES.length);
    expect(defs.StoredEvent?.oneOf).toHaveLength(EVENT_TYPES.length);
  });
});
