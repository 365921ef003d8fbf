import { diffSequences } from './myers.js';

/**
 * A unified line diff of two texts (the changed lines with a line of context each side), for values a person reads
 * as text — the content of a file the agent wrote. Capped: a report shows where a file changed, not the whole file.
 */
export function unifiedTextDiff(a: string, b: string, maxLines = 40): string {
  const la = a.split('\n');
  const lb = b.split('\n');
  const { hunks } = diffSequences(la, lb);
  const out: string[] = [];
  for (const h of hunks) {
    const from = Math.max(0, h.aStart - 1);
    const to = Math.min(la.length, h.aEnd + 1);
    out.push(`@@ -${from + 1},${to - from} +${Math.max(0, h.bStart - 1) + 1} @@`);
    if (h.aStart > 0) out.push(` ${la[h.aStart - 1]}`);
    for (let i = h.aStart; i < h.aEnd; i++) out.push(`-${la[i]}`);
    for (let i = h.bStart; i < h.bEnd; i++) out.push(`+${lb[i]}`);
    if (h.aEnd < la.length) out.push(` ${la[h.aEnd]}`);
    if (out.length >= maxLines) break;
  }
  if (out.length > maxLines) return `${out.slice(0, maxLines).join('\n')}\n… (diff cut at ${maxLines} lines)`;
  return out.join('\n');
}
