/** Small readers for untrusted provider JSON: a wrong type is "absent", never an exception. */
export type Json = Record<string, unknown>;

export function obj(v: unknown): Json | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined;
}
export function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
export function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.trunc(v) : undefined;
}
export function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
/** The path without a trailing slash. */
export function trimmedPath(url: URL): string {
  const p = url.pathname;
  return p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p;
}
export function errorOf(body: Json): { message: string; code?: string } | undefined {
  const e = obj(body.error);
  if (!e) return undefined;
  const message = str(e.message) ?? 'error';
  const code = str(e.code) ?? str(e.type) ?? str(e.status) ?? (typeof e.code === 'number' ? String(e.code) : undefined);
  return { message, ...(code !== undefined ? { code } : {}) };
}
