import type { Shard } from '../../src/transfer/goldens.js';
import { UsageError } from '../errors.js';

/** "2/4" → { index: 2, count: 4 }; anything else is a usage error. */
export function parseShard(text: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || !Number.isSafeInteger(index) || !Number.isSafeInteger(count) || count < 1 || index < 1 || index > count) {
    throw new UsageError(
      `Invalid value for --shard: "${text}" must be I/N with 1 ≤ I ≤ N, e.g. 1/4.`,
      'Run `retrace ci --help`: with --shard I/N, machine I of N runs its share of the golden traces.',
      '--shard',
    );
  }
  return { index, count };
}
