import { appendFileSync, existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as z from 'zod';
import { renderMarkdown } from '../../src/diff/index.js';
import { replayTraces, type TraceReplayOutcome } from '../../src/replay/batch.js';
import { OnMissPolicySchema } from '../../src/replay/on-miss.js';
import type { EventStore } from '../../src/store/types.js';
import {
  displayPath,
  findGoldenFiles,
  loadGoldens,
  selectShard,
  type GoldenTrace,
  type Shard,
} from '../../src/transfer/goldens.js';
import { importTraces } from '../../src/transfer/import.js';
import { parseShard } from '../ci/shard.js';
import { Progress } from '../ci/progress.js';
import {
  countVerdicts,
  passed,
  renderCiJunit,
  renderCiMarkdown,
  verdictLine,
  type CiResult,
  type CiTraceResult,
} from '../ci/report.js';
import type { CommandContext } from '../context.js';
import { InputFileError, OutputFileError } from '../errors.js';
import { writeFileAtomic } from '../files.js';
import { formatDuration } from '../format.js';
import { DurationSchema, parseOptions, wholeNumber } from '../options.js';
import type { RegisterCommand } from './types.js';

/**
 * `retrace ci <dir-or-glob…>`: the regression gate. Reads and validates the golden traces kept in the repo (exactly
 * the `retrace import` rules; one bad line fails the run with exit 2 before anything is written), takes this machine's
 * shard, imports the traces the store does not hold yet (idempotent), replays each against the current agent code,
 * and writes JUnit + a Markdown summary. Exit 0: all identical/equivalent; 1: any diverged or could not be replayed;
 * 2: usage or input error; 3: store or environment failure.
 */

export const MAX_CONCURRENCY = 8;

const CiInputSchema = z.object({
  paths: z.array(z.string().trim().min(1, 'must not be empty')).min(1, 'name at least one folder, file or glob'),
  agent: z.string().trim().min(1, 'must be FILE#EXPORT (or FILE)').optional(),
  junit: z.string().trim().min(1, 'must name a file').optional(),
  summary: z.string().trim().min(1, 'must name a file').optional(),
  reportDir: z.string().trim().min(1, 'must name a folder').optional(),
  shard: z.string().optional(),
  concurrency: wholeNumber(1, MAX_CONCURRENCY).default(1),
  onMiss: OnMissPolicySchema.default('error'),
  fast: z.boolean().default(false),
  prestart: z.boolean().default(true),
  timeout: DurationSchema.default(60_000),
  memoryMb: wholeNumber(64, 1_048_576).default(512),
  dryRun: z.boolean().default(false),
});
type CiInput = z.output<typeof CiInputSchema>;

/** --agent must name an existing file: a typo would otherwise fail every trace as an "error" (exit 1, not 2). */
function checkAgent(agent: string | undefined, cwd: string): void {
  if (agent === undefined) return;
  const hash = agent.lastIndexOf('#');
  const path = hash > 0 ? agent.slice(0, hash) : agent;
  const abs = resolve(cwd, path);
  if (existsSync(abs) && statSync(abs).isFile()) return;
  throw new InputFileError(
    `The agent module ${path} (from --agent ${agent}) does not exist.`,
    'Pass --agent PATH#EXPORT with the path of the agent module relative to the current folder, e.g. src/agent.ts#supportAgent.',
    'agent',
  );
}

function agentNameOf(trace: GoldenTrace): string | null {
  const first = trace.events[0];
  return first?.type === 'agent_started' && typeof first.payload.agent === 'string' ? first.payload.agent : null;
}

/**
 * One testcase of the report, rendered from the trace's one replay comparison (ReplayResult): its verdict and first
 * divergence are the ones `retrace replay` prints for the same trace. A diverged trace's --report-dir file renders
 * the same comparison's diff report.
 */
function toCiResult(trace: GoldenTrace, outcome: TraceReplayOutcome, reportDir: string | undefined): CiTraceResult {
  const base = { traceId: trace.traceId, file: trace.file, agent: agentNameOf(trace), durationMs: outcome.durationMs };
  if (outcome.status === 'error') {
    return {
      ...base,
      verdict: 'error',
      replayTraceId: outcome.replayTraceId,
      firstDivergence: null,
      error: outcome.error,
      report: null,
      misses: 0,
    };
  }
  const r = outcome.result;
  let report: string | null = null;
  if (r.verdict === 'diverged' && reportDir !== undefined) {
    report = join(reportDir, `${trace.traceId}.md`);
    writeFileAtomic(report, renderMarkdown(r.diffReport));
  }
  return {
    ...base,
    verdict: r.verdict,
    replayTraceId: r.replayTraceId,
    firstDivergence: r.firstDivergence?.message ?? null,
    error: null,
    report,
    misses: r.misses.length,
  };
}

async function replayAll(
  ctx: CommandContext,
  store: EventStore,
  input: CiInput,
  cwd: string,
  traces: readonly GoldenTrace[],
  onDone: (t: CiTraceResult) => void,
): Promise<CiTraceResult[]> {
  const byId = new Map(traces.map((t) => [t.traceId, t]));
  const rendered = new Map<string, CiTraceResult>();
  const outcomes = await replayTraces({
    store,
    tenant: ctx.tenant,
    traceIds: traces.map((t) => t.traceId),
    concurrency: input.concurrency,
    onMiss: input.onMiss,
    fast: input.fast,
    prestart: input.prestart,
    timeoutMs: input.timeout,
    memoryMb: input.memoryMb,
    cwd,
    ...(input.agent !== undefined ? { agent: input.agent } : {}),
    onResult: (outcome) => {
      const t = toCiResult(byId.get(outcome.traceId)!, outcome, input.reportDir);
      rendered.set(outcome.traceId, t);
      onDone(t);
    },
  });
  return outcomes.map((o) => rendered.get(o.traceId)!);
}

async function importGoldens(
  store: EventStore,
  tenant: string,
  traces: readonly GoldenTrace[],
): Promise<{ imported: number; present: number }> {
  const outcomes = await importTraces(store, tenant, traces);
  const imported = outcomes.filter((o) => o.result === 'imported').length;
  return { imported, present: traces.length - imported };
}

function writeOutputs(result: CiResult): void {
  if (result.junit !== null) writeFileAtomic(result.junit, renderCiJunit(result));
  const md = result.summary !== null || process.env.GITHUB_STEP_SUMMARY ? renderCiMarkdown(result) : '';
  if (result.summary !== null) writeFileAtomic(result.summary, md);
  const step = process.env.GITHUB_STEP_SUMMARY;
  if (step) {
    try {
      appendFileSync(step, `${md}\n`, 'utf8');
    } catch (err) {
      throw new OutputFileError(
        `Cannot append the summary to GITHUB_STEP_SUMMARY (${step}): ${err instanceof Error ? err.message : String(err)}.`,
        'Check the path in GITHUB_STEP_SUMMARY, or unset it to skip the job summary.',
        { cause: err },
      );
    }
  }
}

async function printHuman(ctx: CommandContext, result: CiResult): Promise<void> {
  const lines: string[] = [];
  for (const t of result.traces.filter((x) => !passed(x))) {
    const what =
      t.verdict === 'diverged' ? (t.firstDivergence ?? '') : `${t.error?.code ?? 'ERROR'}: ${t.error?.message ?? ''}`;
    lines.push(`${t.verdict === 'diverged' ? '✗' : '!'} ${t.traceId}  ${t.verdict}  ${t.file}`);
    lines.push(`    ${what.split('\n')[0] ?? ''}`);
    if (t.report) lines.push(`    report: ${t.report}`);
  }
  lines.push(`${verdictLine(result)} in ${formatDuration(result.durationMs)}`);
  if (result.junit !== null) lines.push(`junit:   ${result.junit}`);
  if (result.summary !== null) lines.push(`summary: ${result.summary}`);
  await ctx.out.line(lines.join('\n'));
}

async function dryRun(
  ctx: CommandContext,
  input: CiInput,
  files: readonly string[],
  all: readonly GoldenTrace[],
  selected: readonly GoldenTrace[],
  shard: Shard | undefined,
): Promise<number> {
  if (ctx.json) {
    await ctx.out.json({
      tenantId: ctx.tenant,
      agent: input.agent ?? null,
      shard: shard ?? null,
      files,
      goldenTraces: all.length,
      traces: selected.map((t) => ({ traceId: t.traceId, file: t.file, events: t.events.length })),
    });
    return 0;
  }
  for (const t of selected) await ctx.out.line(`${t.traceId}  ${t.file}  ${t.events.length} events`);
  await ctx.err.line(
    `${selected.length} of ${all.length} golden trace(s) in ${files.length} file(s)${shard ? ` fall to shard ${shard.index}/${shard.count}` : ''}; nothing was imported or replayed (--dry-run).`,
  );
  return 0;
}

export const registerCi: RegisterCommand = (program, bind) => {
  program
    .command('ci')
    .description(
      'replay golden traces (NDJSON files in your repo) against the current agent code: JUnit, Markdown summary, exit 1 on any divergence',
    )
    .argument('<paths...>', 'folder(s), file(s) or glob(s) of golden trace files written by `retrace export`')
    .option(
      '--agent <entry>',
      "agent code to replay every trace against: FILE#EXPORT (default: each trace's recorded entry)",
    )
    .option(
      '--junit <path>',
      'write JUnit XML: one testcase per golden trace, divergence = failure, replay error = error',
    )
    .option(
      '--summary <path>',
      'write the Markdown summary here (it is also appended to $GITHUB_STEP_SUMMARY when set)',
    )
    .option(
      '--report-dir <dir>',
      'write a Markdown diff report for each diverged trace into this folder (<traceId>.md)',
    )
    .option('--shard <I/N>', "run only this machine's share: shard I of N (1-based)")
    .option('--concurrency <n>', `replays at once (default 1, at most ${MAX_CONCURRENCY})`)
    .option('--on-miss <policy>', 'a request the recording cannot answer: error (default), nearest or live')
    .option('--fast', 're-emit streamed responses at once instead of with their recorded timing')
    .option('--no-prestart', "no pre-started sandboxes: start each trace's sandbox only when its job is ready")
    .option('--timeout <duration>', "stop each replay's sandbox after this long (default 60s)")
    .option('--memory-mb <mb>', 'memory cap of the sandbox in MB: resident memory, Buffers included (default 512)')
    .option('--dry-run', "validate the goldens and list this shard's traces; import and replay nothing")
    .addHelpText(
      'after',
      `
Golden files are NDJSON, one or more traces each, exactly as \`retrace export\` writes them. Every line of every file is
checked (schema, seq order, hash chain) before anything is imported: one bad line fails the run (exit 2) naming the
file and line. Traces the store already holds are left as they are, so re-running is safe.

Paths (a small glob subset; quote patterns so the shell does not expand them, though it may):
  DIR                  the *.ndjson files directly inside DIR (not recursive)
  FILE                 that file
  goldens/*.ndjson     * matches within one path segment, ? one character
  goldens/**/*.ndjson  ** as a whole segment matches zero or more folders
  Names starting with "." match only a pattern segment starting with "."; [ ] and { } match themselves.
  A path or pattern that matches no file is an error (exit 2).

Sharding: the golden trace ids (from all files) are sorted in code-unit order and numbered from 0; trace k belongs to
shard (k mod N) + 1. N machines running --shard 1/N … N/N cover every trace exactly once.

Exit codes: 0 every trace identical or equivalent; 1 any trace diverged or could not be replayed (sandbox crash,
timeout, agent that fails to load); 2 usage or input error (bad flag, no matching files, malformed golden file);
3 store or environment failure.

Examples:
  $ retrace ci goldens/ --agent src/agent.ts#supportAgent --junit reports/retrace.xml --summary reports/retrace.md
  $ retrace ci 'goldens/**/*.ndjson' --shard 2/4 --concurrency 2 --fast --store sqlite:/tmp/ci.db
  $ retrace ci goldens/refund.ndjson --report-dir reports/diffs --json`,
    )
    .action(
      bind(async (ctx, { args, options }) => {
        const input = parseOptions(
          CiInputSchema,
          {
            ...options,
            paths: args[0],
            fast: options.fast === true,
            prestart: options.prestart !== false,
            dryRun: options.dryRun === true,
          },
          'ci',
        );
        const shard = input.shard !== undefined ? parseShard(input.shard) : undefined;
        const cwd = process.cwd();
        checkAgent(input.agent, cwd);
        const started = performance.now();
        const files = findGoldenFiles(input.paths, cwd);
        const all = await loadGoldens(files, cwd);
        const selected = selectShard(all, shard);
        const shownFiles = files.map((f) => displayPath(f, cwd));
        if (input.dryRun) return dryRun(ctx, input, shownFiles, all, selected, shard);

        const progress = new Progress(
          { write: (s) => void ctx.err.write(s) },
          selected.length,
          ctx.stderrTty,
          ctx.stderrColumns,
        );
        const { traces, imported, present } = await ctx.withStore(async (store) => {
          const counts = await importGoldens(store, ctx.tenant, selected);
          await ctx.err.line(
            `${selected.length} golden trace(s)${shard ? ` of ${all.length} (shard ${shard.index}/${shard.count})` : ''} from ${files.length} file(s): ${counts.imported} imported, ${counts.present} already present; replaying with concurrency ${Math.min(input.concurrency, Math.max(1, selected.length))}`,
          );
          progress.start();
          try {
            const traces = await replayAll(ctx, store, input, cwd, selected, (t) => progress.finished(t));
            return { traces, ...counts };
          } finally {
            progress.end();
          }
        });
        const counts = countVerdicts(traces);
        const result: CiResult = {
          tenantId: ctx.tenant,
          status: counts.diverged + counts.error > 0 ? 'failed' : 'passed',
          agent: input.agent ?? null,
          shard: shard ?? null,
          files: shownFiles,
          goldenTraces: all.length,
          imported,
          alreadyPresent: present,
          counts,
          durationMs: Math.round(performance.now() - started),
          junit: input.junit ?? null,
          summary: input.summary ?? null,
          traces: traces.map((t) => ({ ...t, durationMs: Math.round(t.durationMs) })),
        };
        writeOutputs(result);
        if (ctx.json) await ctx.out.json(result);
        else await printHuman(ctx, result);
        return result.status === 'passed' ? 0 : 1;
      }),
    );
};
