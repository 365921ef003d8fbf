import { describe, expect, it } from 'vitest';
import { canonicalJson, canonicalJsonGiven, sha256Hex } from '../../src/hashing/canonical-json.js';
import { envelopeObject, eventHash, sealEnvelope, sealEvent, type EnvelopeFields } from '../../src/hashing/chain.js';
import { referenceCanonicalJson } from './reference-canonical-json.js';

/** sealEvent as it was written when the first traces were stored, over the reference serializer */
function referenceSeal(unsealed: { prevHash: string } & Record<string, unknown>): { hash: string; json: string } {
  const hash = sha256Hex(referenceCanonicalJson(unsealed));
  const json = JSON.stringify(unsealed);
  return { hash, json: `${json.slice(0, -1)},"hash":"${hash}"}` };
}

class Point {
  constructor(
    readonly y: number,
    readonly x: number,
  ) {}
}

const nullProto = Object.assign(Object.create(null) as Record<string, unknown>, { b: 1, a: 2 });
const sortedNullProto = Object.assign(Object.create(null) as Record<string, unknown>, { a: 1, b: [true] });

/** hand-picked values: the corners where JSON.stringify and the canonical form could part */
const corners: unknown[] = [
  null,
  true,
  0,
  -0,
  1e21,
  -1e21,
  1e-7,
  5e-324,
  1.7976931348623157e308,
  0.1 + 0.2,
  Number.MAX_SAFE_INTEGER + 2,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  '',
  'plain',
  'é ü ß 漢字 🙂 👩‍👩‍👧 \u200d \u2028 \u2029 \u0000 \u001f "quotes" \\ / \t\n',
  '\ud800 lone high, lone low \udfff',
  { a: 1, b: 2 },
  { b: 2, a: 1 },
  { '10': 'ten', '9': 'nine', a: 'x' },
  { '': 'empty key', ' ': 'space', A: 1, a: 2, Z: 3, é: 4, '🙂': 5, '\ud800': 6 },
  { a: { b: { c: { d: [1, [2, [3, { f: 1, e: 2 }]]] } } } },
  { a: undefined, b: 1 },
  { a: () => 1, b: Symbol('s'), c: 1 },
  [undefined, () => 1, Symbol('s'), Number.NaN, -0, 1e21],
  // biome-ignore lint/suspicious/noSparseArray: a hole is one of the corners
  [1, , 3],
  { when: new Date(0), nested: { at: new Date(1_700_000_000_000) } },
  { buf: Buffer.from('hi') },
  { custom: { toJSON: () => ({ z: 1, y: 2 }) } },
  { point: new Point(2, 1) },
  { boxed: [new String('ab'), new Number(3), new Boolean(false)] },
  { typed: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]) },
  { map: new Map([['a', 1]]), set: new Set([1]) },
  nullProto,
  sortedNullProto,
  { a: [], b: {}, c: [[]], d: [{}] },
  { aa: 1, a: 2, ab: 3, b: 4 },
  { a: 1, aa: 2, ab: 3, b: 4 },
];

/** a small seeded generator (mulberry32), so a failure names a case that can be replayed */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABET = ['a', 'b', 'Z', '0', '9', '_', ' ', 'é', '漢', '🙂', '"', '\\', '\n', '\u0001', '\u2028', '\ud83d'];
const NUMBERS = [0, -0, 1, -1, 0.5, 1e21, 1e-7, 123456789.125, -(2 ** 53), Number.NaN, Number.POSITIVE_INFINITY];

function randomValue(next: () => number, depth: number): unknown {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)] as T;
  const text = (max: number) => Array.from({ length: Math.floor(next() * max) }, () => pick(ALPHABET)).join('');
  const r = next();
  if (depth <= 0 || r < 0.35) {
    const leaf = Math.floor(next() * 6);
    if (leaf === 0) return null;
    if (leaf === 1) return next() < 0.5;
    if (leaf === 2) return pick(NUMBERS);
    if (leaf === 3) return Math.round((next() - 0.5) * 1e6) / 64;
    if (leaf === 4) return next() < 0.9 ? text(12) : undefined;
    return text(40);
  }
  if (r < 0.55) return Array.from({ length: Math.floor(next() * 5) }, () => randomValue(next, depth - 1));
  const keys = Array.from({ length: Math.floor(next() * 6) }, () =>
    next() < 0.15 ? String(Math.floor(next() * 20)) : text(6),
  );
  // half the objects get their keys in sorted order, to take the fast path as often as the general one
  if (next() < 0.5) keys.sort();
  const out: Record<string, unknown> = {};
  for (const k of keys) out[k] = randomValue(next, depth - 1);
  return out;
}

function payloads(): unknown[] {
  const next = rng(17);
  const generated = Array.from({ length: 400 }, () => {
    const v = randomValue(next, 5);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? v : { value: v };
  });
  return [...corners.map((c) => ({ c })), ...corners.filter((c) => c !== null && typeof c === 'object'), ...generated];
}

describe('canonical JSON stays byte-identical to the serializer the stored chains were hashed with', () => {
  it('canonicalJson and canonicalJsonGiven match the reference on corner cases and generated values', () => {
    const values = [...corners, ...payloads()];
    let fast = 0;
    for (const [i, v] of values.entries()) {
      const want = referenceCanonicalJson(v);
      expect(canonicalJson(v), `value #${i}`).toBe(want);
      const json = JSON.stringify(v);
      if (typeof json !== 'string') continue;
      const got = canonicalJsonGiven(v, json);
      expect(got, `value #${i}`).toBe(want);
      if (got === json) fast += 1;
    }
    // both paths were exercised: sorted plain values reuse the JSON, the rest are serialized again
    expect(fast).toBeGreaterThan(50);
    expect(fast).toBeLessThan(values.length - 50);
  });

  it('refuses what it always refused', () => {
    expect(() => canonicalJson({ n: 1n })).toThrow(/bigint/);
    expect(() => canonicalJsonGiven({ n: 1n }, '{}')).toThrow(/bigint/);
  });
});

describe('sealEnvelope seals exactly as sealEvent over the stored object', () => {
  const envelopes: EnvelopeFields[] = [
    {
      schemaVersion: 1,
      eventId: '0b8e6f6e-7f0e-4a57-9a0e-2a51c3b1e001',
      tenantId: 'default',
      traceId: 'tr_0001',
      seq: 0,
      type: 'decision_made',
      timestamp: '2026-01-01T00:00:00.000Z',
      prevHash: '0'.repeat(64),
    },
    {
      schemaVersion: 1,
      eventId: 'AB8E6F6E-7F0E-4A57-9A0E-2A51C3B1E002',
      tenantId: 't.1-x',
      traceId: 'Trace_2.b',
      seq: 1_999_999,
      type: 'tool_call',
      timestamp: '2026-01-01T00:00:00.123+05:30',
      parentEventId: '0b8e6f6e-7f0e-4a57-9a0e-2a51c3b1e001',
      spanId: 'span "quoted" 🙂 \u2028',
      prevHash: 'f'.repeat(64),
    },
    {
      schemaVersion: 1,
      eventId: '0b8e6f6e-7f0e-4a57-9a0e-2a51c3b1e003',
      tenantId: 'default',
      traceId: 'tr_0001',
      seq: 7,
      type: 'llm_response',
      timestamp: '2026-01-01T00:00:00Z',
      parentEventId: undefined,
      spanId: 'only-span',
      prevHash: 'a'.repeat(64),
    },
  ];

  it('gives the same hash and the same stored JSON for every payload', () => {
    const all = payloads();
    for (const [i, payload] of all.entries()) {
      const env = envelopes[i % envelopes.length] as EnvelopeFields;
      const object = envelopeObject(env, payload);
      const want = referenceSeal(object);
      expect(sealEnvelope(env, payload), `payload #${i}`).toEqual(want);
      expect(sealEvent(object), `payload #${i}`).toEqual(want);
    }
  });

  it('keeps the writer key order in the stored JSON and a hash that verify recomputes from it', () => {
    const env = envelopes[1] as EnvelopeFields;
    const { hash, json } = sealEnvelope(env, { z: 1, a: { y: 2, b: 3 } });
    expect(json).toContain('"payload":{"z":1,"a":{"y":2,"b":3}},"prevHash"');
    expect(Object.keys(JSON.parse(json) as object)).toEqual([
      'schemaVersion',
      'eventId',
      'tenantId',
      'traceId',
      'seq',
      'type',
      'timestamp',
      'parentEventId',
      'spanId',
      'payload',
      'prevHash',
      'hash',
    ]);
    expect(eventHash(JSON.parse(json) as { prevHash: string; hash: string })).toBe(hash);
  });
});
