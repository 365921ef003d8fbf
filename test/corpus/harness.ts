import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { StoredEvent } from '../../src/events/envelope.js';
import { replayTrace, type ReplayOptions, type ReplayResult } from '../../src/replay/replay.js';
import { openStore, type EventStore } from '../../src/store/index.js';

/**
 * The agent corpus: each scenario is an agent written the way users write them (settings from its own environment
 * variables, clients at module load, tools doing their own HTTP), recorded in a child process — with the hook
 * (`node --import tsx agent.ts`, the agent's own main block) or zero-code (`retrace record -- …`) — with its
 * variables set only in that child; then replayed here, in-process, with the LLM stub already stopped and none of
 * those variables in this process.
 */
export const ROOT = resolve(import.meta.dirname, '..', '..');
export const AGENTS = join(ROOT, 'test', 'corpus', 'agents');
export const TENANT = 'corpus';
const exec = promisify(execFile);

/** variables of this test process that must not reach the recording child (the shell's own OpenAI settings) */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(OPENAI_|ANTHROPIC_|RETRACE_|VITEST|NODE_OPTIONS$)/.test(k)) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

export function scratchDir(name: string): string {
  mkdirSync(join(ROOT, 'test', '.tmp'), { recursive: true });
  return mkdtempSync(join(ROOT, 'test', '.tmp', `corpus-${name}-`));
}

export interface Recorded {
  traceId: string;
  stdout: string;
  stderr: string;
}

/** Runs a command (the agent's own main block, or `retrace record -- …`) and returns the trace id it printed. */
export async function recordWith(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env: Record<string, string>; traceIdFrom?: 'stdout' | 'stderr' },
): Promise<Recorded> {
  const { stdout, stderr } = await exec(command, [...args], {
    cwd: options.cwd ?? ROOT,
    env: cleanEnv(options.env),
    maxBuffer: 16 * 1024 * 1024,
    timeout: 90_000,
  });
  const text = options.traceIdFrom === 'stderr' ? stderr : stdout;
  const id =
    /recorded trace (\S+)/.exec(text)?.[1] ??
    /^retrace: trace (\S+)/m.exec(text)?.[1] ??
    text.trim().split('\n').pop()?.trim() ??
    '';
  return { traceId: id, stdout, stderr };
}

/** Records with the hook: `node --import tsx <agent file> [args]`, whose main block prints the trace id. */
export function recordHook(
  file: string,
  env: Record<string, string>,
  args: readonly string[] = [],
  cwd = ROOT,
): Promise<Recorded> {
  return recordWith(process.execPath, ['--import', 'tsx', file, ...args], { env, cwd });
}

export async function withStore<T>(url: string, fn: (store: EventStore) => Promise<T>): Promise<T> {
  const store = await openStore(url);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

export async function readTrace(url: string, traceId: string, tenant = TENANT): Promise<StoredEvent[]> {
  return withStore(url, async (store) => {
    const out: StoredEvent[] = [];
    for await (const e of store.read(tenant, traceId)) out.push(e);
    return out;
  });
}

/** Replays `times` times in a row (one recording, shared) and returns each result. */
export async function replayTimes(
  url: string,
  traceId: string,
  times: number,
  options: Partial<ReplayOptions> = {},
  tenant = TENANT,
): Promise<ReplayResult[]> {
  return withStore(url, async (store) => {
    const out: ReplayResult[] = [];
    for (let i = 0; i < times; i++) {
      out.push(await replayTrace({ store, tenant, traceId, fast: true, timeoutMs: 60_000, ...options }));
    }
    return out;
  });
}

/** A short line per replay for failure messages: verdict, outcome, first divergence, misses. */
export function describe(result: ReplayResult): string {
  return JSON.stringify({
    verdict: result.verdict,
    outcome: result.outcome,
    error: result.error?.message,
    first: result.firstDivergence?.message,
    misses: result.misses.map((m) => m.message),
  });
}

export function typesOf(events: readonly StoredEvent[]): string[] {
  return events.filter((e) => e.type !== 'nondeterminism').map((e) => e.type);
}
