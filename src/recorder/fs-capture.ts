import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PayloadInputOf } from '../events/payloads.js';
import { agentRun } from './context.js';

/**
 * Files the agent writes under its project tree (the working directory), recorded as file_written events: relative
 * path, operation, size, sha256 and — up to FILE_CONTENT_CAP — the content, redacted like any payload. Patches the
 * write functions of `fs` and `fs/promises` (ESM named imports too, through syncBuiltinESMExports); a write is
 * recorded once it succeeded, and only when the caller is agent code inside a run (never the recorder's own writes).
 */
export const FILE_CONTENT_CAP = 256 * 1024;

type Op = PayloadInputOf<'file_written'>['op'];
type AnyFn = (...args: unknown[]) => unknown;

const utf8 = new TextDecoder('utf-8', { fatal: true });

function pathOf(p: unknown): string | undefined {
  if (typeof p === 'string') return p;
  if (p instanceof URL) return p.protocol === 'file:' ? fileURLToPath(p) : undefined;
  if (Buffer.isBuffer(p)) return p.toString('utf8');
  return undefined; // a file descriptor or a FileHandle: not a path we can name
}

/** the path relative to the project root, with forward slashes; undefined outside it */
export function projectRelative(p: unknown, root = process.cwd()): string | undefined {
  const raw = pathOf(p);
  if (raw === undefined) return undefined;
  const rel = relative(root, resolve(root, raw));
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return undefined;
  return rel.split(sep).join('/');
}

function bytesOf(data: unknown, encoding: unknown): Buffer | undefined {
  if (typeof data === 'string')
    return Buffer.from(data, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  if (Buffer.isBuffer(data)) return data;
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return undefined;
}

function encodingOf(options: unknown): unknown {
  return typeof options === 'string' ? options : (options as { encoding?: unknown } | undefined)?.encoding;
}

export function fileEvent(op: Op, path: string, bytes?: Buffer, to?: string): PayloadInputOf<'file_written'> {
  const out: PayloadInputOf<'file_written'> = { op, path, ...(to !== undefined ? { to } : {}) };
  if (!bytes) return out;
  out.size = bytes.length;
  out.sha256 = createHash('sha256').update(bytes).digest('hex');
  if (bytes.length > FILE_CONTENT_CAP) out.contentOmitted = true;
  else {
    try {
      out.content = utf8.decode(bytes);
    } catch {
      out.content = bytes.toString('base64');
      out.contentEncoding = 'base64';
    }
  }
  return out;
}

function record(op: Op, target: unknown, bytes?: Buffer, toTarget?: unknown, bound = agentRun()): void {
  const run = bound;
  if (!run) return;
  const path = projectRelative(target);
  if (path === undefined) return;
  const to = toTarget !== undefined ? projectRelative(toTarget) : undefined;
  try {
    run.emit('file_written', fileEvent(op, path, bytes, to));
  } catch {
    // recording must never change what the agent's write does
  }
}

/** what one call recorded: computed from the arguments before the call (data may be mutated afterwards) */
function describe(op: Op, args: unknown[]): (() => void) | undefined {
  if (!agentRun()) return undefined;
  switch (op) {
    case 'writeFile':
    case 'appendFile': {
      const bytes = bytesOf(args[1], encodingOf(args[2]));
      return () => record(op, args[0], bytes ?? Buffer.alloc(0));
    }
    case 'rename':
      return () => record(op, args[0], undefined, args[1]);
    default:
      return () => record(op, args[0]);
  }
}

function wrapSync(op: Op, fn: AnyFn): AnyFn {
  return function (this: unknown, ...args: unknown[]) {
    const after = describe(op, args);
    const result = fn.apply(this, args);
    after?.();
    return result;
  };
}

function wrapPromise(op: Op, fn: AnyFn): AnyFn {
  return function (this: unknown, ...args: unknown[]) {
    const after = describe(op, args);
    return (fn.apply(this, args) as Promise<unknown>).then((v) => {
      after?.();
      return v;
    });
  };
}

function wrapCallback(op: Op, fn: AnyFn): AnyFn {
  return function (this: unknown, ...args: unknown[]) {
    const after = describe(op, args);
    const cb = args[args.length - 1];
    if (after && typeof cb === 'function')
      args[args.length - 1] = function (this: unknown, err: unknown, ...rest: unknown[]) {
        if (!err) after();
        return (cb as AnyFn).call(this, err, ...rest);
      };
    return fn.apply(this, args);
  };
}

function wrapCreateWriteStream(fn: AnyFn): AnyFn {
  return function (this: unknown, ...args: unknown[]) {
    const stream = fn.apply(this, args) as fs.WriteStream;
    if (!agentRun() || projectRelative(args[0]) === undefined) return stream;
    const parts: Buffer[] = [];
    const write = stream.write;
    stream.write = function (this: fs.WriteStream, chunk: unknown, ...rest: unknown[]): boolean {
      const b = bytesOf(chunk, typeof rest[0] === 'string' ? rest[0] : undefined);
      if (b) parts.push(Buffer.from(b));
      return (write as AnyFn).call(this, chunk, ...rest) as boolean;
    } as typeof stream.write;
    const end = stream.end;
    stream.end = function (this: fs.WriteStream, chunk?: unknown, ...rest: unknown[]) {
      if (chunk !== undefined && typeof chunk !== 'function') {
        const b = bytesOf(chunk, typeof rest[0] === 'string' ? rest[0] : undefined);
        if (b) parts.push(Buffer.from(b));
      }
      return (end as AnyFn).call(this, chunk, ...rest);
    } as typeof stream.end;
    // 'finish' may run outside the agent's async context: the run is the one that opened the stream
    const run = agentRun();
    stream.once('finish', () => record('createWriteStream', args[0], Buffer.concat(parts), undefined, run));
    return stream;
  };
}

const SYNC: Array<[string, Op]> = [
  ['writeFileSync', 'writeFile'],
  ['appendFileSync', 'appendFile'],
  ['mkdirSync', 'mkdir'],
  ['renameSync', 'rename'],
  ['rmSync', 'rm'],
];
const ASYNC: Array<[string, Op]> = [
  ['writeFile', 'writeFile'],
  ['appendFile', 'appendFile'],
  ['mkdir', 'mkdir'],
  ['rename', 'rename'],
  ['rm', 'rm'],
];

let refs = 0;
let restore: (() => void) | undefined;

/** Installs the capture (once per process, ref-counted); returns the release function. */
export function acquireFsCapture(): () => void {
  if (refs++ === 0) {
    const target = fs as unknown as Record<string, AnyFn>;
    const promises = fs.promises as unknown as Record<string, AnyFn>;
    const saved: Array<[Record<string, AnyFn>, string, AnyFn]> = [];
    const patch = (obj: Record<string, AnyFn>, name: string, wrap: (f: AnyFn) => AnyFn): void => {
      const original = obj[name];
      if (typeof original !== 'function') return;
      saved.push([obj, name, original]);
      obj[name] = wrap(original);
    };
    for (const [name, op] of SYNC) patch(target, name, (f) => wrapSync(op, f));
    for (const [name, op] of ASYNC) patch(target, name, (f) => wrapCallback(op, f));
    for (const [name, op] of ASYNC) patch(promises, name, (f) => wrapPromise(op, f));
    patch(target, 'createWriteStream', wrapCreateWriteStream);
    syncBuiltinESMExports();
    restore = () => {
      for (const [obj, name, original] of saved.reverse()) obj[name] = original;
      syncBuiltinESMExports();
    };
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--refs === 0) {
      restore?.();
      restore = undefined;
    }
  };
}
