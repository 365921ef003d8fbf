import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DiffReportSchema, diffReportJsonSchema, diffTraces } from '../../src/diff/index.js';
import { FIXTURE_PAIRS } from './fixtures.js';

describe('diff report schema', () => {
  it('docs/diff-report-schema.json is current (regenerate: node --import tsx scripts/write-diff-schema.ts)', () => {
    const path = fileURLToPath(new URL('../../docs/diff-report-schema.json', import.meta.url));
    expect(readFileSync(path, 'utf8')).toBe(diffReportJsonSchema());
  });

  it('every fixture report validates against the zod schema', async () => {
    for (const make of Object.values(FIXTURE_PAIRS)) {
      const [a, b] = make();
      const result = DiffReportSchema.safeParse(await diffTraces(a, b));
      expect(result.success, result.error?.message).toBe(true);
    }
  });
});
