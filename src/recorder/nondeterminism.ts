import { createRequire, syncBuiltinESMExports } from 'node:module';
import { fileURLToPath } from 'node:url';
import { agentRun, getProcessRun } from './context.js';
import type { NondeterminismSource } from './hooks.js';
import { OriginalDate, originalDateNow, originalMathRandom, originalPerformanceNow } from './originals.js';
import type { RunState } from './run.js';
import { acquireShared } from './shared.js';

/**
 * Nondeterminism capture, so a replay can hand the agent the same values. While installed, `Date.now`, `new Date()` / `Date()`,
 * `performance.now`, `Math.random`, `crypto.randomUUID` and `crypto.getRandomValues` check which run the caller belongs
 * to: outside any run they are the originals, untouched; inside a run the value is recorded (and, with ReplayHooks,
 * served from the recording). The recorder itself uses the saved originals (originals.ts), never these.
 */
const require = createRequire(import.meta.url);
const nodeCrypto = require('node:crypto') as typeof import('node:crypto') & Record<string, unknown>;
const webcrypto = globalThis.crypto as typeof globalThis.crypto & Record<string, unknown>;
const perf = globalThis.performance as typeof globalThis.performance & Record<string, unknown>;

const realRandomUUID = webcrypto.randomUUID.bind(webcrypto);
const realNodeRandomUUID = nodeCrypto.randomUUID;
const realGetRandomValues = webcrypto.getRandomValues.bind(webcrypto);

function active(): RunState | undefined {
  const run = agentRun();
  if (run === undefined || !run.config.captureNondeterminism) return undefined;
  // a zero-code run spans module loading: values the TypeScript loader draws there are not the agent's
  if (run === getProcessRun() && drawnByLoader()) return undefined;
  return run;
}

const OWN_FILE = fileURLToPath(import.meta.url);
const OWN_SOURCE = /[\\/]recorder[\\/]nondeterminism\.[jt]s:/;
/** code that loads modules rather than being the agent: Node's loader, tsx and the esbuild it drives */
const LOADER_FRAME =
  /\(node:internal\/modules\/|[\\/]node_modules[\\/](tsx|esbuild|get-tsconfig)[\\/]|\(node:internal\/(process|bootstrap)\//;

/**
 * True when the code that asked for the value (the first frame outside this file) is module-loading machinery. Only
 * checked for zero-code runs (a stack capture costs a few µs): with `tsx agent.ts` the loader draws its own UUIDs and
 * clock readings in the agent's process, in different numbers when recording and when replaying, and counting them
 * as the agent's would serve the agent someone else's values.
 */
function drawnByLoader(): boolean {
  const holder: { stack?: string } = {};
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 8;
  Error.captureStackTrace(holder);
  Error.stackTraceLimit = limit;
  const frames = (holder.stack ?? '').split('\n').slice(1);
  // this file as built, or as a source map names it (tsx maps stack frames back to the .ts source)
  const caller = frames.find((f) => !f.includes(OWN_FILE) && !OWN_SOURCE.test(f));
  return caller !== undefined && LOADER_FRAME.test(caller);
}

function served(run: RunState, source: NondeterminismSource): number | string | undefined {
  return run.hooks?.nextValue(source);
}

function takeNumber(run: RunState, source: NondeterminismSource, real: () => number): number {
  const s = served(run, source);
  const n =
    typeof s === 'number'
      ? s
      : typeof s === 'string' && s.trim() !== '' && Number.isFinite(Number(s))
        ? Number(s)
        : undefined;
  const value = n ?? real();
  run.recordValue(source, value);
  return value;
}

function takeUuid(run: RunState, real: () => string): string {
  const s = served(run, 'crypto.randomUUID');
  const value = typeof s === 'string' ? s : real();
  run.recordValue('crypto.randomUUID', value);
  return value;
}

function patchedDateNow(): number {
  const run = active();
  return run ? takeNumber(run, 'Date.now', originalDateNow) : originalDateNow();
}

function patchedPerformanceNow(): number {
  const run = active();
  return run ? takeNumber(run, 'performance.now', originalPerformanceNow) : originalPerformanceNow();
}

function patchedMathRandom(): number {
  const run = active();
  return run ? takeNumber(run, 'Math.random', originalMathRandom) : originalMathRandom();
}

function patchedRandomUUID(this: unknown): `${string}-${string}-${string}-${string}-${string}` {
  const run = active();
  const value = run ? takeUuid(run, realRandomUUID) : realRandomUUID();
  return value as `${string}-${string}-${string}-${string}-${string}`;
}

function patchedNodeRandomUUID(options?: { disableEntropyCache?: boolean }): string {
  const run = active();
  return run ? takeUuid(run, () => realNodeRandomUUID(options)) : realNodeRandomUUID(options);
}

function patchedGetRandomValues<T extends ArrayBufferView | null>(array: T): T {
  const run = active();
  if (!run || array === null || !ArrayBuffer.isView(array)) return realGetRandomValues(array as never) as T;
  const bytes = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
  const s = served(run, 'crypto.getRandomValues');
  let filled = false;
  if (typeof s === 'string') {
    const recorded = Buffer.from(s, 'base64');
    if (recorded.length === bytes.length) {
      bytes.set(recorded);
      filled = true;
    }
  }
  if (!filled) realGetRandomValues(array as never);
  run.recordValue('crypto.getRandomValues', Buffer.from(bytes).toString('base64'));
  return array;
}

/** `Date` with `new Date()` / `Date()` recorded; every other use (with arguments, statics, instanceof) is the original. */
const PatchedDate = new Proxy(OriginalDate, {
  construct(target, args: unknown[], newTarget) {
    if (args.length === 0) {
      const run = active();
      if (run) return Reflect.construct(target, [takeNumber(run, 'Date', originalDateNow)], newTarget) as object;
    }
    return Reflect.construct(target, args, newTarget) as object;
  },
  apply(target, thisArg, args: unknown[]) {
    const run = active();
    if (run) return new OriginalDate(takeNumber(run, 'Date', originalDateNow)).toString();
    return Reflect.apply(target, thisArg, args) as string;
  },
});

interface Saved {
  owner: Record<string, unknown>;
  key: string;
  descriptor: PropertyDescriptor | undefined;
}

let saved: Saved[] = [];

function replace(owner: Record<string, unknown>, key: string, value: unknown): void {
  saved.push({ owner, key, descriptor: Object.getOwnPropertyDescriptor(owner, key) });
  Object.defineProperty(owner, key, { value, writable: true, configurable: true, enumerable: false });
}

function installPatches(): () => void {
  saved = [];
  replace(OriginalDate as unknown as Record<string, unknown>, 'now', patchedDateNow);
  replace(globalThis as unknown as Record<string, unknown>, 'Date', PatchedDate);
  replace(perf, 'now', patchedPerformanceNow);
  replace(Math as unknown as Record<string, unknown>, 'random', patchedMathRandom);
  replace(webcrypto, 'randomUUID', patchedRandomUUID);
  replace(webcrypto, 'getRandomValues', patchedGetRandomValues);
  // node:crypto's getRandomValues calls the webcrypto one, so it is covered; randomUUID is separate
  replace(nodeCrypto, 'randomUUID', patchedNodeRandomUUID);
  syncBuiltinESMExports();
  return () => {
    for (const s of saved.reverse()) {
      if (s.descriptor) Object.defineProperty(s.owner, s.key, s.descriptor);
      else delete s.owner[s.key];
    }
    saved = [];
    syncBuiltinESMExports();
  };
}

/** Installs the patches (once per process across copies of agent-retrace, ref-counted); returns the release function. */
export function acquireNondeterminismCapture(): () => void {
  return acquireShared('nondeterminism', installPatches);
}
