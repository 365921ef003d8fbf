import { sha256Hex } from '../hashing/canonical-json.js';

/**
 * Large values (a 5 MB tool result) would make a report unreadable and unloadable. They are replaced by a note with
 * their size and a sha256 prefix, so a reader can still tell two large values apart and find the original.
 */
export const REPORT_VALUE_BYTES = 2048;
const PREVIEW_CHARS = 120;

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

export function truncationNote(bytes: number, hashedText: string): string {
  return `[truncated: ${formatBytes(bytes)}, sha256 ${sha256Hex(hashedText).slice(0, 12)}]`;
}

/**
 * A copy of `value` in which no string is longer than `maxBytes` and no object or array serializes to much more than
 * `maxBytes`: long strings keep a short preview, containers keep their first members up to the budget and name how
 * many were left out. Values within the budget are returned as they are (not copied).
 */
export function clipValue(value: unknown, maxBytes: number): unknown {
  if (!Number.isFinite(maxBytes)) return value;
  if (typeof value === 'string') {
    const bytes = Buffer.byteLength(value, 'utf8');
    if (bytes <= maxBytes) return value;
    return `${value.slice(0, PREVIEW_CHARS)}… ${truncationNote(bytes, value)}`;
  }
  if (typeof value !== 'object' || value === null) return value;
  const json = JSON.stringify(value);
  const bytes = Buffer.byteLength(json, 'utf8');
  if (bytes <= maxBytes) return value;
  let used = 0;
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (let i = 0; i < value.length; i++) {
      if (used > maxBytes) {
        out.push(
          `[… ${value.length - i} more items; whole array ${formatBytes(bytes)}, sha256 ${sha256Hex(json).slice(0, 12)}]`,
        );
        break;
      }
      const child = clipValue(value[i], maxBytes);
      used += Buffer.byteLength(JSON.stringify(child) ?? 'null', 'utf8');
      out.push(child);
    }
    return out;
  }
  const out: Record<string, unknown> = {};
  const keys = Object.keys(value);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    if (used > maxBytes) {
      out['…'] =
        `[${keys.length - i} more fields; whole object ${formatBytes(bytes)}, sha256 ${sha256Hex(json).slice(0, 12)}]`;
      break;
    }
    const child = clipValue((value as Record<string, unknown>)[key], maxBytes);
    used += Buffer.byteLength(JSON.stringify(child) ?? '', 'utf8') + key.length + 4;
    out[key] = child;
  }
  return out;
}
