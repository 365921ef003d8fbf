import type { ErrorInfo } from '../events/payloads.js';

/**
 * Snapshots a live JS value (tool arguments, results, agent input and output) into plain JSON at the moment it is
 * observed, so later mutation by the agent cannot change what was recorded. Dates become ISO strings, Maps and Sets
 * arrays, bigint strings, errors ErrorInfo, functions and symbols are dropped, cycles become "[Circular]".
 */
export function toJsonSafe(value: unknown): unknown {
  return snapshot(value, new WeakSet(), 0);
}

function snapshot(value: unknown, seen: WeakSet<object>, depth: number): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : String(value);
    case 'bigint':
      return value.toString();
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
    default:
      break;
  }
  if (value === null) return null;
  const o = value as object;
  if (depth > 100) return '[MaxDepth]';
  if (seen.has(o)) return '[Circular]';
  if (o instanceof Date) return Number.isNaN(o.getTime()) ? null : o.toISOString();
  if (o instanceof Error) return errorInfo(o);
  if (ArrayBuffer.isView(o)) return Buffer.from(o.buffer, o.byteOffset, o.byteLength).toString('base64');
  if (o instanceof ArrayBuffer) return Buffer.from(o).toString('base64');
  seen.add(o);
  try {
    if (Array.isArray(o))
      return o.map((v) => {
        const s = snapshot(v, seen, depth + 1);
        return s === undefined ? null : s;
      });
    if (o instanceof Map)
      return [...o.entries()].map(([k, v]) => [snapshot(k, seen, depth + 1), snapshot(v, seen, depth + 1)]);
    if (o instanceof Set) return [...o.values()].map((v) => snapshot(v, seen, depth + 1));
    const toJSON = (o as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') return snapshot((toJSON as () => unknown).call(o), seen, depth + 1);
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(o)) {
      const s = snapshot((o as Record<string, unknown>)[key], seen, depth + 1);
      if (s !== undefined) out[key] = s;
    }
    return out;
  } finally {
    seen.delete(o);
  }
}

/** name, message, stack and code of anything thrown (errors, strings, objects). */
export function errorInfo(err: unknown): ErrorInfo {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    const causeCode = (err.cause as { code?: unknown } | undefined)?.code;
    const c = code ?? causeCode;
    return {
      name: err.name || 'Error',
      message: err.message,
      ...(err.stack !== undefined ? { stack: err.stack } : {}),
      ...(typeof c === 'string' || typeof c === 'number' ? { code: String(c) } : {}),
    };
  }
  if (err !== null && typeof err === 'object') {
    const e = err as { name?: unknown; message?: unknown; code?: unknown };
    return {
      name: typeof e.name === 'string' ? e.name : 'Error',
      message: typeof e.message === 'string' ? e.message : safeString(err),
      ...(typeof e.code === 'string' ? { code: e.code } : {}),
    };
  }
  return { name: 'Error', message: String(err) };
}

function safeString(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/** An Error rebuilt from a recorded ErrorInfo (replay answers a tool with the error it threw when recorded). */
export function errorFromInfo(info: ErrorInfo): Error {
  // the recorded class, so `catch (e) { if (e.name === 'AbortError') … }` and `instanceof TypeError` take the branch
  // they took when recorded; AbortError and TimeoutError are DOMExceptions, as fetch throws them
  let err: Error;
  switch (info.name) {
    case 'AbortError':
    case 'TimeoutError':
      err = new DOMException(info.message, info.name);
      break;
    case 'TypeError':
      err = new TypeError(info.message);
      break;
    case 'RangeError':
      err = new RangeError(info.message);
      break;
    case 'SyntaxError':
      err = new SyntaxError(info.message);
      break;
    default:
      err = new Error(info.message);
      err.name = info.name;
  }
  if (info.stack !== undefined && !(err instanceof DOMException)) err.stack = info.stack;
  if (info.code !== undefined && !(err instanceof DOMException)) (err as Error & { code?: string }).code = info.code;
  return err;
}
