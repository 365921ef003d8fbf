import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { TraceBuilder } from '../helpers/trace-builder.js';
import { startS3rver, type S3Fixture } from '../store/archive-fixtures.js';
import { BUILD_TIMEOUT_MS, ensureBuilt, retrace, seed, tempStore } from './cli-harness.js';

/** `retrace archive` / `retrace restore` against a local s3rver: hot → cold → another hot store, identical events. */
const ResultsSchema = z
  .object({
    results: z.array(z.object({ traceId: z.string(), outcome: z.string(), eventCount: z.number().int() }).loose()),
  })
  .loose();

const hot = tempStore('hot.db');
const other = tempStore('other.db');
let s3: S3Fixture;
// the CLI child reads the AWS credentials startS3rver put into this process's environment
const awsEnv = () => ({
  AWS_ACCESS_KEY_ID: 'S3RVER',
  AWS_SECRET_ACCESS_KEY: 'S3RVER',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
});

beforeAll(async () => {
  const [fixture] = await Promise.all([
    startS3rver(),
    ensureBuilt(),
    seed(hot.url, {
      done: new TraceBuilder('support').llm().complete().events,
      failed: new TraceBuilder('billing').llm().fail().events,
    }),
  ]);
  s3 = fixture;
}, BUILD_TIMEOUT_MS);
afterAll(async () => {
  await s3?.stop();
  hot.cleanup();
  other.cleanup();
});

describe('retrace archive / restore', () => {
  it('archives with --prune, restores into another store, and the events are identical', async () => {
    const before = (await retrace(['export', 'done'], { RETRACE_STORE: hot.url })).stdout;
    const url = s3.url('cli');
    const a = await retrace(['archive', 'done', 'failed', '--to', url, '--prune', '--json'], {
      RETRACE_STORE: hot.url,
      ...awsEnv(),
    });
    expect(a.code).toBe(0);
    expect(ResultsSchema.parse(JSON.parse(a.stdout)).results.map((r) => [r.traceId, r.outcome])).toEqual([
      ['done', 'archived'],
      ['failed', 'archived'],
    ]);
    expect((await retrace(['show', 'done'], { RETRACE_STORE: hot.url })).code).toBe(2);

    // the archive itself is a read-only store
    expect((await retrace(['verify', 'done', '--store', url], awsEnv())).code).toBe(0);
    const shown = await retrace(['show', 'done', '--store', url], awsEnv());
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('agent_completed');

    const r = await retrace(['restore', 'done', '--from', url], { RETRACE_STORE: other.url, ...awsEnv() });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('1 restored, 0 failed');
    expect((await retrace(['export', 'done'], { RETRACE_STORE: other.url })).stdout).toBe(before);
    const again = await retrace(['restore', 'done', '--from', url], { RETRACE_STORE: other.url, ...awsEnv() });
    expect(again.stdout).toMatch(/already-present +done/);
    expect(again.code).toBe(0);
  });

  it('usage errors: exit 2', async () => {
    const env = { RETRACE_STORE: hot.url, ...awsEnv() };
    const neither = await retrace(['archive', '--to', s3.url('cli')], env);
    expect(neither.code).toBe(2);
    expect(neither.stderr).toContain('give trace ids or --older-than');
    const noTo = await retrace(['archive', 'done'], env);
    expect(noTo.code).toBe(2);
    expect(noTo.stderr).toContain("required option '--to <url>' not specified");
    const badUrl = await retrace(['restore', 'done', '--from', 'http://x'], env);
    expect(badUrl.code).toBe(2);
    const unknown = await retrace(['restore', 'never-archived', '--from', s3.url('cli')], {
      RETRACE_STORE: other.url,
      ...awsEnv(),
    });
    expect(unknown.code).toBe(2);
    expect(unknown.stdout).toContain('never-archived');
  });
});
