import { diffSequences, Interner } from '../diff/myers.js';

/** A run of text in a word-level diff of two strings. */
export interface WordPart {
  text: string;
  /** same: in both; removed: only in A; added: only in B */
  op: 'same' | 'removed' | 'added';
}

/** words and the whitespace between them, so that joining the tokens gives the string back */
function tokens(s: string): string[] {
  return s.match(/\s+|[\p{L}\p{N}_]+|[^\s\p{L}\p{N}_]/gu) ?? [];
}

/**
 * Word-level diff of two strings (Myers over word tokens), for highlighting what changed inside a changed prompt or
 * answer. Beyond `maxEdits` the changed middle is one removed and one added run, which is still correct.
 */
export function wordDiff(a: string, b: string, maxEdits = 500): WordPart[] {
  const ta = tokens(a);
  const tb = tokens(b);
  const interner = new Interner();
  const { hunks } = diffSequences(
    ta.map((t) => interner.id(t)),
    tb.map((t) => interner.id(t)),
    maxEdits,
  );
  const out: WordPart[] = [];
  const push = (text: string, op: WordPart['op']) => {
    if (!text) return;
    const last = out[out.length - 1];
    if (last && last.op === op) last.text += text;
    else out.push({ text, op });
  };
  let i = 0;
  for (const h of hunks) {
    push(ta.slice(i, h.aStart).join(''), 'same');
    push(ta.slice(h.aStart, h.aEnd).join(''), 'removed');
    push(tb.slice(h.bStart, h.bEnd).join(''), 'added');
    i = h.aEnd;
  }
  push(ta.slice(i).join(''), 'same');
  return out;
}
