/** Writes docs/event-schema.json from the zod schemas (`npm run schema`); test/events/schema-file.test.ts checks it is current. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventJsonSchema } from '../src/events/json-schema.js';

const out = join(import.meta.dirname, '..', 'docs', 'event-schema.json');
writeFileSync(out, `${JSON.stringify(eventJsonSchema(), null, 2)}\n`);
console.log(`wrote ${out}`);
