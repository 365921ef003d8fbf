import {
  findShapes,
  isSecretHeader,
  isSecretNamedValue,
  isSecretEnvName,
  isSecretQueryName,
  REDACTED,
} from './shapes.js';

/**
 * Value-level redaction with the catalogue of src/secrets/shapes.ts: strings, URLs, headers, JSON values of any depth,
 * text bodies, environment values. Pure functions; `memory`, when given, collects every secret recognised so that the
 * caller can replace later copies of it (see src/recorder/redact.ts).
 */

/** Secrets shorter than this are not remembered: replacing every "abc" in a run would destroy unrelated text. */
const MIN_REMEMBERED = 8;

function remember(memory: Set<string> | undefined, secret: string): void {
  if (memory && secret.length >= MIN_REMEMBERED && secret !== REDACTED) memory.add(secret);
}

/** Replaces every known key shape in a string. */
export function redactString(value: string, memory?: Set<string>): string {
  const found = findShapes(value);
  if (found.length === 0) return value;
  let out = '';
  let at = 0;
  for (const m of found) {
    remember(memory, value.slice(m.start, m.end));
    out += value.slice(at, m.start) + REDACTED;
    at = m.end;
  }
  return out + value.slice(at);
}

/**
 * Redacts credential query parameters by name, user:password, and key shapes anywhere in the URL — also inside
 * percent-encoded parameter values (a redirect URL with credentials in it).
 */
export function redactUrl(raw: string, memory?: Set<string>): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return redactString(raw, memory);
  }
  let changed = false;
  if (url.username || url.password) {
    remember(memory, decodeURIComponent(url.password));
    url.username = '';
    url.password = '';
    changed = true;
  }
  if (url.search !== '') {
    const params = url.searchParams;
    const entries = [...params.entries()];
    let paramsChanged = false;
    const next = entries.map(([k, v]): [string, string] => {
      if (v !== '' && v !== REDACTED && (isSecretQueryName(k) || isSecretNamedValue(k, v))) {
        remember(memory, v);
        paramsChanged = true;
        return [k, REDACTED];
      }
      const r = redactUrlOrString(v, memory);
      if (r !== v) paramsChanged = true;
      return [k, r];
    });
    if (paramsChanged) {
      url.search = new URLSearchParams(next).toString();
      changed = true;
    }
  }
  return redactString(changed ? url.toString() : raw, memory);
}

/** A string that is a JSON object or array (a prompt holding a config, argv carrying JSON, a tool's JSON arguments). */
function jsonInString(value: string): unknown {
  const t = value.trim();
  const a = t[0];
  const z = t[t.length - 1];
  if (!((a === '{' && z === '}') || (a === '[' && z === ']'))) return undefined;
  try {
    return JSON.parse(t) as unknown;
  } catch {
    return undefined;
  }
}

function redactUrlOrString(value: string, memory?: Set<string>): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return redactUrl(value, memory);
  // JSON inside a string gets the field-name rules too; rewritten only when something in it was redacted
  const parsed = jsonInString(value);
  if (parsed !== undefined && typeof parsed === 'object' && parsed !== null) {
    const redacted = redactValue(parsed, memory);
    if (redacted !== parsed) return JSON.stringify(redacted);
  }
  return redactString(value, memory);
}

export function redactHeaders(headers: Record<string, string>, memory?: Set<string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (isSecretHeader(name) || isSecretNamedValue(name, value)) {
      // "Bearer sk-…" / "Basic …": remember the credential itself, not the scheme
      remember(memory, value.replace(/^(Bearer|Basic|Token)\s+/i, ''));
      out[name] = value === '' ? value : REDACTED;
    } else {
      out[name] = redactUrlOrString(value, memory);
    }
  }
  return out;
}

function redactField(name: string, value: string, memory?: Set<string>): string {
  if (isSecretNamedValue(name, value)) {
    remember(memory, value);
    return REDACTED;
  }
  return redactUrlOrString(value, memory);
}

interface Frame {
  src: Record<string, unknown> | unknown[];
  keys: string[] | undefined;
  i: number;
  out: Record<string, unknown> | unknown[] | undefined;
  parent: Frame | undefined;
  parentKey: string | number;
}

function walkable(value: unknown): value is Record<string, unknown> | unknown[] {
  return value !== null && typeof value === 'object' && !ArrayBuffer.isView(value) && !(value instanceof ArrayBuffer);
}

/** A reference back to an object being walked: stored data has no cycles, so the cycle is cut here. */
export const CIRCULAR = '[Circular]';

/**
 * Deep-redacts a JSON value (objects, arrays, strings) of any depth — the walk is iterative, so a 10 000-level
 * structure cannot overflow the stack, and a cycle ends the branch instead of looping. Returns the same reference when
 * nothing changed, so clean payloads cost one walk and no copies; changed branches are copied, the input never
 * modified. `transform`, when given, replaces the per-string rule (used to replace remembered secrets).
 */
export function redactValue(
  value: unknown,
  memory?: Set<string>,
  transform: (s: string, key: string | undefined) => string = (s, key) =>
    key === undefined ? redactUrlOrString(s, memory) : redactField(key, s, memory),
): unknown {
  if (typeof value === 'string') return transform(value, undefined);
  if (!walkable(value)) return value;
  const frameOf = (
    src: Record<string, unknown> | unknown[],
    parent: Frame | undefined,
    key: string | number,
  ): Frame => ({
    src,
    keys: Array.isArray(src) ? undefined : Object.keys(src),
    i: 0,
    out: undefined,
    parent,
    parentKey: key,
  });
  const set = (f: Frame, key: string | number, v: unknown): void => {
    f.out ??= Array.isArray(f.src) ? f.src.slice() : { ...f.src };
    (f.out as Record<string | number, unknown>)[key] = v;
  };
  const onPath = new Set<object>([value]);
  const stack: Frame[] = [frameOf(value, undefined, 0)];
  let result: unknown = value;
  while (stack.length > 0) {
    const f = stack[stack.length - 1] as Frame;
    const length = f.keys ? f.keys.length : (f.src as unknown[]).length;
    if (f.i < length) {
      const index = f.i++;
      const key: string | number = f.keys ? (f.keys[index] as string) : index;
      const item = (f.src as Record<string | number, unknown>)[key];
      if (typeof item === 'string') {
        const next = transform(item, typeof key === 'string' ? key : undefined);
        if (next !== item) set(f, key, next);
      } else if (walkable(item)) {
        if (onPath.has(item)) set(f, key, CIRCULAR);
        else {
          onPath.add(item);
          stack.push(frameOf(item, f, key));
        }
      }
      continue;
    }
    stack.pop();
    onPath.delete(f.src);
    const out = f.out ?? f.src;
    if (f.parent) {
      if (out !== f.src) set(f.parent, f.parentKey, out);
    } else result = out;
  }
  return result;
}

/** Replaces every copy of an already recognised secret, in strings at any depth. */
export function replaceKnown(value: unknown, known: ReadonlySet<string>): unknown {
  if (known.size === 0) return value;
  const replace = (s: string): string => {
    let out = s;
    for (const secret of known) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    return out;
  };
  return redactValue(value, undefined, replace);
}

/**
 * Redacts a text body: parsed and walked when it is JSON (so field-name rules apply), form-encoded fields by name,
 * shape-matched otherwise. Returns the text unchanged when nothing matched.
 */
export function redactBodyText(text: string, memory?: Set<string>): string {
  if (text === '') return text;
  const first = text.trimStart()[0];
  if (first === '{' || first === '[' || first === '"') {
    try {
      const parsed = JSON.parse(text) as unknown;
      const redacted = redactValue(parsed, memory);
      return redacted === parsed ? text : JSON.stringify(redacted);
    } catch {
      // not JSON after all
    }
  }
  if (text.includes('=') && !text.includes('\n') && !text.includes(' ')) {
    // form-encoded: fields by name, then shapes in the decoded values
    try {
      const params = new URLSearchParams(text);
      let changed = false;
      const next = [...params.entries()].map(([k, v]): [string, string] => {
        if (v !== '' && v !== REDACTED && (isSecretQueryName(k) || isSecretNamedValue(k, v))) {
          remember(memory, v);
          changed = true;
          return [k, REDACTED];
        }
        const r = redactUrlOrString(v, memory);
        if (r !== v) changed = true;
        return [k, r];
      });
      if (changed) return new URLSearchParams(next).toString();
    } catch {
      // not form-encoded
    }
  }
  return redactString(text, memory);
}

/** An environment variable's value as it may be stored: whole when named like a credential, else shape-redacted. */
export function redactEnvValue(name: string, value: string, memory?: Set<string>): string {
  if (value !== '' && (isSecretEnvName(name) || isSecretNamedValue(name, value))) {
    remember(memory, value);
    return REDACTED;
  }
  return redactUrlOrString(value, memory);
}
