import { readFileSync } from 'node:fs';
import * as z from 'zod';
import { EVENT_TYPES, type EventType } from '../events/payloads.js';
import { issuePath } from '../events/validate.js';
import { DiffPolicyError } from './errors.js';
import { buildTrie, compilePath, EMPTY_TRIE, pathProblem, type CompiledPath, type PathTrie } from './paths.js';

/**
 * Diff policies: per event type, compare `exact`ly, compare with some paths ignored, or `ignore` the
 * event type entirely (it is left out of the alignment). Users extend retrace's defaults from a JSON file or options.
 */

const PathListSchema = z.array(
  z.string().superRefine((s, ctx) => {
    const problem = pathProblem(s);
    if (problem) ctx.addIssue({ code: 'custom', message: `the path "${s}" is not usable: ${problem}` });
  }),
);

export const TypeRuleSchema = z.union([
  z.enum(['exact', 'ignore']),
  z.strictObject({
    ignorePaths: PathListSchema,
    /** true: these paths replace retrace's defaults for the type instead of adding to them */
    replaceDefaults: z.boolean().optional(),
  }),
]);
export type TypeRule = z.infer<typeof TypeRuleSchema>;

export const DiffPolicySchema = z.strictObject({
  $schema: z.string().optional(),
  version: z.literal(1).optional(),
  /** false: start from nothing instead of retrace's default ignores (ids minted per trace are always ignored) */
  defaults: z.boolean().optional(),
  /** ignored in every event type */
  ignorePaths: PathListSchema.optional(),
  types: z.partialRecord(z.enum(EVENT_TYPES as [EventType, ...EventType[]]), TypeRuleSchema).optional(),
});
export type DiffPolicy = z.infer<typeof DiffPolicySchema>;

/**
 * Envelope fields minted per trace. They can never be equal across two traces, so they are outside every policy,
 * even `exact`: comparing them would make every pair of traces "different" and tell the reader nothing.
 */
export const IDENTITY_FIELDS = [
  'eventId',
  'tenantId',
  'traceId',
  'seq',
  'parentEventId',
  'spanId',
  'prevHash',
  'hash',
] as const;

/** Ignored for every type by default: wall-clock time differs on every run. */
const DEFAULT_GLOBAL_PATHS = ['timestamp'];

/**
 * Per-type defaults: latencies, ids and timestamps the provider mints per call, host details, and hashes derived from
 * fields that are compared anyway (reporting both would say the same thing twice). Header values are volatile
 * (dates, request ids, rate-limit counters) and do not change what the agent did.
 */
const DEFAULT_TYPE_PATHS: Partial<Record<EventType, string[]>> = {
  agent_started: [
    'payload.environment.hostname',
    'payload.environment.cwd',
    'payload.environment.pid',
    'payload.replayOf',
  ],
  llm_request: ['payload.headers', 'payload.requestHash'],
  llm_response: [
    'payload.latencyMs',
    'payload.headers',
    'payload.chunks.*.t',
    'payload.chunks.*.data.id',
    'payload.chunks.*.data.created',
    'payload.chunks.*.data.system_fingerprint',
    'payload.body.id',
    'payload.body.created',
    'payload.body.created_at',
    'payload.body.system_fingerprint',
    'payload.error.stack',
    'payload.startMs',
    'payload.headersMs',
  ],
  tool_call: ['payload.argsHash'],
  tool_response: ['payload.latencyMs', 'payload.error.stack', 'payload.startMs'],
  http_request: ['payload.headers', 'payload.requestHash'],
  http_response: [
    'payload.latencyMs',
    'payload.headers',
    'payload.chunks.*.t',
    'payload.error.stack',
    'payload.startMs',
    'payload.headersMs',
  ],
  agent_completed: ['payload.totals.durationMs'],
  agent_failed: ['payload.totals.durationMs', 'payload.error.stack'],
};

/**
 * The run's timing: when each event happened, how long each call and the whole run took, and a replay's link to its
 * recording. Different on every run by construction, like the identity fields; with `timing: 'same'` (what a replay
 * comparison uses, src/replay/comparison.ts) a difference here does not turn "identical" into "equivalent".
 */
const TIMING_PATHS: ReadonlySet<string> = new Set([
  'timestamp',
  'payload.latencyMs',
  'payload.startMs',
  'payload.headersMs',
  'payload.chunks.*.t',
  'payload.totals.durationMs',
  'payload.replayOf',
]);

/** How differing timing fields count: as an ignored difference (equivalent, the default) or as none (identical). */
export type TimingRule = 'equivalent' | 'same';

/** nondeterminism events carry clock readings and random values: different on every run by construction */
const DEFAULT_IGNORED_TYPES: EventType[] = ['nondeterminism'];

export type ResolvedRule = { mode: 'ignore' } | { mode: 'compare'; paths: CompiledPath[]; trie: PathTrie };

export interface ResolvedPolicy {
  rules: ReadonlyMap<EventType, ResolvedRule>;
  /** what is left out of an ignored event before it is digested (identical vs equivalent for ignored types) */
  ignoredEventPaths: PathTrie;
  /** a one-line account of the policy for reports */
  description: string;
}

/**
 * Fields a comparison sets aside without counting them as an ignored difference (they keep a verdict "identical"),
 * per event type; a path also covers the paths below it. A replay's comparison (src/replay/comparison.ts) puts where
 * and how the run was started here: that the replay ran elsewhere is not something the agent did.
 */
export type SilentPaths = Partial<Record<EventType, readonly string[]>>;

function isSilent(source: string, silent: readonly string[] | undefined): boolean {
  return silent?.some((p) => source === p || source.startsWith(`${p}.`)) ?? false;
}

function ruleFor(type: EventType, policy: DiffPolicy, timing: TimingRule, silent: SilentPaths): ResolvedRule {
  const useDefaults = policy.defaults !== false;
  const rule = policy.types?.[type];
  if (rule === 'ignore') return { mode: 'ignore' };
  if (rule === 'exact') return { mode: 'compare', paths: [], trie: buildTrie([]) };
  if (rule === undefined && useDefaults && DEFAULT_IGNORED_TYPES.includes(type)) return { mode: 'ignore' };
  const paths: string[] = [];
  const keepDefaults = useDefaults && !(rule !== undefined && rule.replaceDefaults === true);
  if (keepDefaults) paths.push(...DEFAULT_GLOBAL_PATHS, ...(DEFAULT_TYPE_PATHS[type] ?? []));
  paths.push(...(policy.ignorePaths ?? []));
  if (rule !== undefined) paths.push(...rule.ignorePaths);
  const compiled = [...new Set(paths)].map((source) => {
    const path = compilePath(source);
    return (timing === 'same' && TIMING_PATHS.has(source)) || isSilent(source, silent[type])
      ? { ...path, silent: true }
      : path;
  });
  return { mode: 'compare', paths: compiled, trie: buildTrie(compiled) };
}

export function resolvePolicy(
  policy: DiffPolicy = {},
  timing: TimingRule = 'equivalent',
  silent: SilentPaths = {},
): ResolvedPolicy {
  const rules = new Map<EventType, ResolvedRule>();
  for (const type of EVENT_TYPES) rules.set(type, ruleFor(type, policy, timing, silent));
  const ignoredTypes = EVENT_TYPES.filter((t) => rules.get(t)?.mode === 'ignore');
  const exactTypes = EVENT_TYPES.filter((t) => policy.types?.[t] === 'exact');
  const parts = [
    policy.defaults === false ? 'no default ignores' : 'default ignores (ids, timestamps, latencies, run-time ids)',
  ];
  if (policy.ignorePaths?.length) parts.push(`also ignoring ${policy.ignorePaths.join(', ')}`);
  if (exactTypes.length) parts.push(`exact: ${exactTypes.join(', ')}`);
  if (ignoredTypes.length) parts.push(`types not compared: ${ignoredTypes.join(', ')}`);
  if (timing === 'same') parts.push('timing differences (timestamps, latencies, durations) count as identical');
  const ignoredEventPaths = timing === 'same' ? buildTrie([compilePath('timestamp')]) : EMPTY_TRIE;
  return { rules, ignoredEventPaths, description: parts.join('; ') };
}

/** Validates a policy object; `source` names where it came from (a file path or "options.policy") in the error. */
export function parsePolicy(raw: unknown, source = 'options.policy'): DiffPolicy {
  const result = DiffPolicySchema.safeParse(raw);
  if (result.success) return result.data;
  const { field, text } = describeIssue(result.error.issues);
  throw new DiffPolicyError(
    `The diff policy in ${source} is invalid at ${field}: ${text}.`,
    `A policy looks like {"ignorePaths": ["payload.body.user"], "types": {"tool_response": {"ignorePaths": ["payload.result.requestId"]}, "decision_made": "ignore", "llm_request": "exact"}}; event types are ${EVENT_TYPES.join(', ')}.`,
    field,
    { cause: result.error },
  );
}

export function loadPolicyFile(path: string): DiffPolicy {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new DiffPolicyError(
      `Cannot read the diff policy file ${path}: ${(err as Error).message}.`,
      'Check the path passed as the policy file.',
      'policyFile',
      { cause: err },
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new DiffPolicyError(
      `The diff policy file ${path} is not valid JSON: ${(err as Error).message}.`,
      'Fix the JSON syntax (a policy file is one JSON object).',
      '(root)',
      { cause: err },
    );
  }
  return parsePolicy(raw, path);
}

/** Combines policies left to right: later ignore paths add to earlier ones, later type rules win. */
export function mergePolicies(...policies: DiffPolicy[]): DiffPolicy {
  const out: DiffPolicy = {};
  for (const p of policies) {
    if (p.defaults !== undefined) out.defaults = p.defaults;
    if (p.ignorePaths) out.ignorePaths = [...(out.ignorePaths ?? []), ...p.ignorePaths];
    if (p.types) out.types = { ...out.types, ...p.types };
  }
  return out;
}

/** The most specific issue: for a union, the branch that got furthest; unknown keys are named. */
function describeIssue(issues: readonly z.core.$ZodIssue[]): { field: string; text: string } {
  let issue = issues[0];
  if (!issue) return { field: '(root)', text: 'invalid' };
  // union branch issues carry paths relative to the union, so the prefix is accumulated while descending
  let path: PropertyKey[] = [...issue.path];
  let text = issue.message;
  while (issue.code === 'invalid_union' && issue.errors.length > 0) {
    const branches: z.core.$ZodIssue[][] = issue.errors;
    const deepest: z.core.$ZodIssue | undefined = branches.flat().sort((x, y) => y.path.length - x.path.length)[0];
    if (!deepest || deepest.path.length === 0) {
      text = 'expected "exact", "ignore" or {"ignorePaths": [...]}';
      break;
    }
    issue = deepest;
    path = [...path, ...issue.path];
    text = issue.message;
  }
  let field = issuePath(path) || '(root)';
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.join(', ');
    field = issuePath([...path, issue.keys[0] ?? '']) || keys;
    text = path.length === 1 && path[0] === 'types' ? `unknown event type "${keys}"` : `unknown field "${keys}"`;
  }
  return { field, text };
}
