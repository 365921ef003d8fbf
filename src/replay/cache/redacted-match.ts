import { REDACTED } from '../../secrets/shapes.js';

/**
 * "Redact but still match" for what the exact key cannot match: a recorded value in which the recorder redacted more
 * than the key's own redaction sees (a secret remembered from an earlier event of the run, the user's redact hook, a
 * trace keyed before redaction). Every "[REDACTED]" in a recorded string stands for any non-empty text; everything
 * else must be equal. Iterative, so depth is no limit.
 */

const patterns = new Map<string, RegExp>();

function wildcard(recorded: string): RegExp {
  let re = patterns.get(recorded);
  if (!re) {
    const parts = recorded.split(REDACTED).map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    re = new RegExp(`^${parts.join('[\\s\\S]+?')}$`);
    if (patterns.size > 1000) patterns.clear();
    patterns.set(recorded, re);
  }
  return re;
}

export function matchesRedacted(recorded: unknown, live: unknown): boolean {
  const stack: Array<[unknown, unknown]> = [[recorded, live]];
  while (stack.length > 0) {
    const [a, b] = stack.pop() as [unknown, unknown];
    if (a === b) continue;
    if (typeof a === 'string') {
      if (typeof b !== 'string' || !a.includes(REDACTED) || !wildcard(a).test(b)) return false;
      continue;
    }
    if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
    if (Array.isArray(a) !== Array.isArray(b)) return false;
    if (Array.isArray(a)) {
      const bb = b as unknown[];
      if (a.length !== bb.length) return false;
      for (let i = 0; i < a.length; i++) stack.push([a[i], bb[i]]);
      continue;
    }
    const ra = a as Record<string, unknown>;
    const rb = b as Record<string, unknown>;
    const ka = Object.keys(ra).filter((k) => ra[k] !== undefined);
    const kb = Object.keys(rb).filter((k) => rb[k] !== undefined);
    if (ka.length !== kb.length) return false;
    for (const k of ka) {
      if (!(k in rb)) return false;
      stack.push([ra[k], rb[k]]);
    }
  }
  return true;
}
