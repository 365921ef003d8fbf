import type { DiffOptions, DiffReport } from '../../src/diff/index.js';
import type { StoredEvent } from '../../src/events/envelope.js';
import { sha256Hex } from '../../src/hashing/canonical-json.js';
import { FIXTURE_PAIRS, type ScenarioOptions, StoredTraceBuilder, supportRun } from './fixtures.js';

/**
 * The inputs of test/diff/equivalence.test.ts: every fixture pair, plus long runs (many support-agent rounds in one
 * trace) that change in a few places, so a report folds its timeline and the diff reads a long common prefix, or
 * diverges early and keeps the rest for the alignment. Each case runs under a few option sets. The reports these
 * inputs gave before the diff was made to stream (issue 17) are in golden/equivalence.json.
 */
export interface EquivalenceCase {
  name: string;
  a: StoredEvent[];
  b: StoredEvent[];
  options: DiffOptions;
}

/** Rounds of supportRun in one trace; `round(r)` gives a round's options (jitter, extra tool, another query…). */
function longRun(
  traceId: string,
  rounds: number,
  round: (r: number) => Partial<ScenarioOptions> = () => ({}),
): StoredEvent[] {
  const out: StoredEvent[] = [];
  for (let r = 0; r < rounds; r++) {
    const events = supportRun({ traceId, ...round(r) });
    // ids unique across rounds (supportRun derives them from the trace id and seq), parents remapped with them
    const ids = new Map(events.map((e) => [e.eventId, uuidOf(`${traceId}/${r}/${e.seq}`)]));
    for (const e of events) {
      const parent = e.parentEventId === undefined ? undefined : ids.get(e.parentEventId);
      out.push({
        ...e,
        eventId: ids.get(e.eventId) as string,
        seq: out.length,
        ...(parent !== undefined ? { parentEventId: parent } : {}),
      } as StoredEvent);
    }
  }
  return out;
}

function uuidOf(text: string): string {
  const h = sha256Hex(text);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Two tool calls answered in the other order in B: the responses moved, their requests did not (completion order). */
function completionOrder(traceId: string, swapped: boolean): StoredEvent[] {
  const t = new StoredTraceBuilder(traceId);
  t.add('tool_call', { tool: 'search', args: { q: 'a' }, argsHash: '1'.repeat(16), occurrence: 0 });
  t.add('tool_call', { tool: 'fetch_page', args: { url: 'u' }, argsHash: '2'.repeat(16), occurrence: 0 });
  const search = { tool: 'search', result: { hits: 1 }, latencyMs: 5 };
  const fetch = { tool: 'fetch_page', result: { text: 'x' }, latencyMs: 6 };
  for (const payload of swapped ? [fetch, search] : [search, fetch]) t.add('tool_response', payload);
  const callIds = new Map(t.events.slice(0, 2).map((e) => [(e.payload as { tool: string }).tool, e.eventId]));
  return t.events.map((e) =>
    e.type === 'tool_response' ? ({ ...e, parentEventId: callIds.get(e.payload.tool) } as StoredEvent) : e,
  );
}

const ROUNDS = 40;
const jitter = (r: number): Partial<ScenarioOptions> => ({ jitter: (r % 3) + 1 });

const LONG_PAIRS: Record<string, () => [StoredEvent[], StoredEvent[]]> = {
  'long-scattered-changes': () => [
    longRun('long-a', ROUNDS),
    longRun('long-b', ROUNDS, (r) => ({
      ...jitter(r),
      ...(r === 4 || r === 17 || r === 26 ? { searchQuery: `query ${r}` } : {}),
    })),
  ],
  'long-identical': () => [longRun('long-a', ROUNDS), longRun('long-b', ROUNDS)],
  'long-equivalent': () => [longRun('long-a', ROUNDS), longRun('long-b', ROUNDS, jitter)],
  'long-inserted-early': () => [
    longRun('long-a', ROUNDS),
    longRun('long-b', ROUNDS, (r) => ({ ...jitter(r), extraTool: r === 1, ...(r === 20 ? { question: 'Hi?' } : {}) })),
  ],
  'long-removed-late': () => [
    longRun('long-a', ROUNDS, (r) => ({ extraTool: r === ROUNDS - 3 })),
    longRun('long-b', ROUNDS, jitter),
  ],
  'long-moved-call': () => [
    longRun('long-a', ROUNDS, (r) => ({ extraTool: r === 3 })),
    longRun('long-b', ROUNDS, (r) => ({ extraTool: r === 24 })),
  ],
  'long-different-lengths': () => [longRun('long-a', ROUNDS), longRun('long-b', ROUNDS + 4, jitter)],
  'long-second-round-and-failure': () => [
    longRun('long-a', ROUNDS),
    longRun('long-b', ROUNDS, (r) => ({ secondRound: r === 12, fail: r === ROUNDS - 1 })),
  ],
  'long-vs-empty': () => [longRun('long-a', ROUNDS / 4), []],
  'completion-order': () => [completionOrder('co-a', false), completionOrder('co-b', true)],
};

const SHORT_OPTIONS: Record<string, DiffOptions> = {
  default: {},
  folded: { context: 1, fullTimelineMax: 0 },
  'timing-same': { timing: 'same' },
};

const LONG_OPTIONS: Record<string, DiffOptions> = {
  default: {},
  'context-0': { context: 0 },
  'context-5-clipped': { context: 5, maxInlineBytes: 64 },
  positional: { maxEdits: 2, maxInlineBytes: 256 },
  'policy-ignores-tools': {
    policy: { types: { tool_call: 'ignore', tool_response: 'ignore' } },
    labels: { a: 'x', b: 'y' },
    fullTimelineMax: 50,
  },
};

export function equivalenceCases(): EquivalenceCase[] {
  const cases: EquivalenceCase[] = [];
  for (const [pair, make] of Object.entries(FIXTURE_PAIRS)) {
    for (const [opt, options] of Object.entries(SHORT_OPTIONS)) {
      const [a, b] = make();
      cases.push({ name: `${pair} / ${opt}`, a, b, options });
    }
  }
  for (const [pair, make] of Object.entries(LONG_PAIRS)) {
    for (const [opt, options] of Object.entries(LONG_OPTIONS)) {
      const [a, b] = make();
      cases.push({ name: `${pair} / ${opt}`, a, b, options });
    }
  }
  // the whole timeline of a long run, once: every event kept to the end
  const [a, b] = (LONG_PAIRS['long-inserted-early'] as () => [StoredEvent[], StoredEvent[]])();
  cases.push({
    name: 'long-inserted-early / whole timeline',
    a,
    b,
    options: { fullTimelineMax: 1000, maxInlineBytes: 48 },
  });
  return cases;
}

/**
 * What golden/equivalence.json records of a report: the sha256 of its JSON text (any change to any field, or to
 * the order of keys, changes it) and a few fields that say what changed when the hash does not match.
 */
export function reportFingerprint(report: DiffReport): ReportFingerprint {
  return {
    sha256: sha256Hex(JSON.stringify(report)),
    verdict: report.verdict,
    differences: report.differences.length,
    timelineRows: report.timeline.length,
    alignment: report.alignment,
    firstDivergence: report.firstDivergence?.sentence ?? null,
  };
}

export interface ReportFingerprint {
  sha256: string;
  verdict: string;
  differences: number;
  timelineRows: number;
  alignment: string;
  firstDivergence: string | null;
}
