import jsonpatch from 'fast-json-patch';
import { describe, expect, it } from 'vitest';
import { diffJson } from '../../src/diff/json-diff.js';

const { applyPatch, deepClone } = jsonpatch;

function roundTrip(a: unknown, b: unknown): void {
  const ops = diffJson(a, b);
  const { newDocument } = applyPatch(deepClone(a), deepClone(ops) as never, true, false);
  expect(newDocument).toEqual(b);
}

describe('diffJson', () => {
  it('produces a patch that turns A into B (fast-json-patch applies it)', () => {
    const cases: [unknown, unknown][] = [
      [{ a: 1 }, { a: 2 }],
      [
        { a: 1, b: [1, 2, 3] },
        { b: [0, 1, 2, 3, 4], c: 'x' },
      ],
      [
        {
          m: [
            { r: 'u', c: 'hi' },
            { r: 'a', c: 'yo' },
          ],
        },
        {
          m: [
            { r: 'u', c: 'hello' },
            { r: 'a', c: 'yo' },
            { r: 'u', c: 'new' },
          ],
        },
      ],
      [
        [1, 2, 3, 4, 5],
        [5, 4, 3, 2, 1],
      ],
      [{ x: [[1, 2], [3]] }, { x: [[1], [3, 4], []] }],
      [{ k: null }, { k: { deep: [1] } }],
      [{ 'a/b': 1, 'c~d': 2 }, { 'a/b': 3 }],
    ];
    for (const [a, b] of cases) roundTrip(a, b);
  });

  it('one message inserted at the front of a long conversation is one add, not a rewrite of every index', () => {
    const messages = Array.from({ length: 50_000 }, (_, i) => ({
      role: i % 2 ? 'assistant' : 'user',
      content: `message ${i}`,
    }));
    const a = { body: { messages } };
    const b = { body: { messages: [{ role: 'system', content: 'be brief' }, ...messages] } };
    const ops = diffJson(a, b);
    expect(ops).toEqual([{ op: 'add', path: '/body/messages/0', value: { role: 'system', content: 'be brief' } }]);
  });

  it('a changed message inside a conversation is one replace at its path, with the old value', () => {
    const a = {
      messages: [
        { role: 'user', content: 'a' },
        { role: 'assistant', content: 'b' },
        { role: 'user', content: 'c' },
      ],
    };
    const b = {
      messages: [
        { role: 'user', content: 'a' },
        { role: 'assistant', content: 'b' },
        { role: 'user', content: 'C' },
      ],
    };
    expect(diffJson(a, b)).toEqual([{ op: 'replace', path: '/messages/2/content', value: 'C', oldValue: 'c' }]);
  });

  it('equal documents give no ops even with different key order', () => {
    expect(diffJson({ a: 1, b: { c: [1, { d: 2, e: 3 }] } }, { b: { c: [1, { e: 3, d: 2 }] }, a: 1 })).toEqual([]);
  });
});
