import {
  findShapes,
  isSecretNamedValue,
  isSecretQueryName,
  REDACTED,
  SECRET_HEADER_NAMES,
  type ShapeMatch,
} from './shapes.js';

/**
 * Finds secret-shaped values left in stored data (what `retrace scan` reports): the same catalogue as the redaction
 * (src/secrets/shapes.ts), so a value redaction would have removed is exactly a value scan reports.
 */

export interface SecretFinding {
  /** JSON Pointer into the scanned value; a JSON text or URL inside a string continues the pointer after "#" */
  path: string;
  /** the shape name from the catalogue, or "secret-field" / "secret-query-param" for a value found by its name */
  shape: string;
  /** the first characters and the length, never the secret itself */
  preview: string;
}

export function maskSecret(secret: string): string {
  const shown = Math.min(4, Math.floor(secret.length / 4));
  return `${secret.slice(0, shown)}…(${secret.length} chars)`;
}

function pointer(base: string, key: string | number): string {
  return `${base}/${String(key).replace(/~/g, '~0').replace(/\//g, '~1')}`;
}

function shapesIn(text: string, path: string, out: SecretFinding[]): void {
  for (const m of findShapes(text) as ShapeMatch[])
    out.push({ path, shape: m.shape, preview: maskSecret(text.slice(m.start, m.end)) });
}

function scanString(text: string, path: string, out: SecretFinding[], budget: { nested: number }): void {
  shapesIn(text, path, out);
  const first = text.trimStart()[0];
  if ((first === '{' || first === '[') && budget.nested > 0) {
    try {
      const parsed = JSON.parse(text) as unknown;
      budget.nested--;
      walk(parsed, `${path}#`, out, budget);
      return;
    } catch {
      // not JSON
    }
  }
  if (/^[a-z][a-z0-9+.-]*:\/\/\S+\?/i.test(text)) {
    try {
      for (const [k, v] of new URL(text).searchParams) {
        if (v !== '' && v !== REDACTED && (isSecretQueryName(k) || isSecretNamedValue(k, v)))
          out.push({ path: `${path}#?${k}`, shape: 'secret-query-param', preview: maskSecret(v) });
      }
    } catch {
      // not a URL
    }
  }
}

function walk(value: unknown, base: string, out: SecretFinding[], budget: { nested: number }): void {
  if (typeof value === 'string') {
    scanString(value, base, out, budget);
    return;
  }
  const stack: Array<{ value: unknown; path: string }> = [{ value, path: base }];
  const seen = new Set<object>();
  while (stack.length > 0) {
    const { value: v, path } = stack.pop() as { value: unknown; path: string };
    if (v === null || typeof v !== 'object' || seen.has(v)) continue;
    seen.add(v);
    const entries: Array<[string | number, unknown]> = Array.isArray(v)
      ? v.map((item, i) => [i, item])
      : Object.entries(v as Record<string, unknown>);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, item] = entries[i] as [string | number, unknown];
      const p = pointer(path, key);
      if (typeof item === 'string') {
        if (
          typeof key === 'string' &&
          (isSecretNamedValue(key, item) ||
            (SECRET_HEADER_NAMES.has(key.toLowerCase()) && item !== REDACTED && item !== ''))
        ) {
          out.push({ path: p, shape: 'secret-field', preview: maskSecret(item) });
        } else scanString(item, p, out, budget);
      } else if (item !== null && typeof item === 'object') stack.push({ value: item, path: p });
    }
  }
}

/** Every secret-shaped value in a JSON value (any depth). */
export function scanValue(value: unknown, basePath = ''): SecretFinding[] {
  const out: SecretFinding[] = [];
  walk(value, basePath, out, { nested: 10_000 });
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
