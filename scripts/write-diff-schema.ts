/**
 * Writes docs/diff-report-schema.json from DiffReportSchema, so consumers of `retrace diff --format json` can
 * validate reports without TypeScript. Run after changing src/diff/report-schema.ts:
 *   node --import tsx scripts/write-diff-schema.ts
 * test/diff/schema.test.ts fails when the file is out of date.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { diffReportJsonSchema } from '../src/diff/json-schema.js';

const target = fileURLToPath(new URL('../docs/diff-report-schema.json', import.meta.url));
writeFileSync(target, diffReportJsonSchema());
console.log(`wrote ${target}`);
