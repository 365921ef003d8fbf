import { createReadStream, createWriteStream, mkdirSync, renameSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { dirname, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { InputFileError, isRetraceError, OutputFileError, ValidationError } from '../errors.js';
import { GENESIS_HASH, type StoredEvent } from '../events/envelope.js';
import { withoutProcessControlEnv } from '../events/untrusted-env.js';
import { safeParseStoredEvent } from '../events/validate.js';
import { ChainVerifier } from '../hashing/chain.js';

/**
 * Trace files: NDJSON, one StoredEvent per line, exactly what the store's read() yields. They are how golden traces
 * live in a user's repo and move between stores, so reading one trusts nothing: every line is schema-checked and its
 * hash chain recomputed before a single event is written anywhere.
 */

export interface FileTrace {
  traceId: string;
  /** the tenant the file says it came from (the hash covers it; the importer's --tenant decides where it goes) */
  sourceTenant: string;
  events: StoredEvent[];
  /** 1-based line of each event, for messages */
  lines: number[];
}

function errnoOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function lineError(path: string, line: number, what: string, hint: string): ValidationError {
  return new ValidationError(`${path} line ${line}: ${what}. Nothing was imported.`, hint, `line ${line}`);
}

const FIX_HINT =
  'Fix or remove that line (each line must be one event exactly as `retrace export` wrote it), then import again.';

/** Reads and checks a whole trace file; throws on the first bad line, naming it. Traces may be interleaved. */
export async function readTraceFile(path: string): Promise<FileTrace[]> {
  const traces = new Map<string, FileTrace>();
  const chains = new Map<string, ChainVerifier>();
  const eventIds = new Map<string, number>();
  const input = createReadStream(path, { encoding: 'utf8' });
  await once(input, 'open').catch((err: unknown) => {
    const code = errnoOf(err);
    throw new InputFileError(
      `Cannot read ${path}${code === 'ENOENT' ? ': no such file' : code === 'EISDIR' ? ': it is a folder' : `: ${String(code ?? err)}`}.`,
      'Pass the path of an NDJSON trace file, e.g. one written by `retrace export TRACE_ID --out trace.ndjson`.',
      'file',
      { cause: err },
    );
  });
  const lines = createInterface({ input, crlfDelay: Infinity });
  let lineNo = 0;
  try {
    for await (const text of lines) {
      lineNo += 1;
      if (text.trim() === '') continue;
      let raw: unknown;
      try {
        raw = JSON.parse(text);
      } catch (err) {
        throw lineError(path, lineNo, `not valid JSON (${err instanceof Error ? err.message : String(err)})`, FIX_HINT);
      }
      const parsed = safeParseStoredEvent(raw);
      if (!parsed.ok)
        throw lineError(path, lineNo, `the event fails its schema at ${parsed.field}: ${parsed.text}`, FIX_HINT);
      const event = parsed.event;
      const seenAt = eventIds.get(event.eventId.toLowerCase());
      if (seenAt !== undefined) {
        throw lineError(
          path,
          lineNo,
          `eventId ${event.eventId} already appeared on line ${seenAt}`,
          'Every event needs its own eventId.',
        );
      }
      eventIds.set(event.eventId.toLowerCase(), lineNo);
      let trace = traces.get(event.traceId);
      if (!trace) {
        trace = { traceId: event.traceId, sourceTenant: event.tenantId, events: [], lines: [] };
        traces.set(event.traceId, trace);
        chains.set(event.traceId, new ChainVerifier({ seq: 0, prevHash: GENESIS_HASH }));
      }
      checkChain(path, lineNo, trace, chains.get(event.traceId)!, event);
      const { event: kept, dropped } = withoutProcessControlEnv(event);
      if (dropped.length > 0)
        process.stderr.write(
          `warning: ${path} line ${lineNo}: dropped ${dropped.join(', ')} from the recorded environment (names that configure a process are never imported)\n`,
        );
      trace.events.push(kept);
      trace.lines.push(lineNo);
    }
  } catch (err) {
    // a read error mid-file (EIO, EISDIR on some platforms) is still the user's file
    if (err instanceof ValidationError) throw err;
    throw new InputFileError(
      `Cannot read ${path} (line ${lineNo + 1}): ${err instanceof Error ? err.message : String(err)}.`,
      'Check the file is a readable NDJSON trace file.',
      'file',
      { cause: err },
    );
  } finally {
    input.destroy();
  }
  if (traces.size === 0) {
    throw new InputFileError(`${path} holds no events.`, 'Pass a file written by `retrace export`.', 'file');
  }
  return [...traces.values()];
}

/** Events of one trace must come in seq order from 0, each linked to the previous one's hash (the verify rules). */
function checkChain(path: string, lineNo: number, trace: FileTrace, chain: ChainVerifier, event: StoredEvent): void {
  const breaks = chain.check(event);
  const gap = breaks.find((b) => b.rule === 'gap');
  if (gap) {
    throw lineError(
      path,
      lineNo,
      `trace "${event.traceId}" has seq ${event.seq} where seq ${gap.expectedSeq} was expected (gap)`,
      "Keep each trace's events complete and in seq order, as `retrace export` writes them.",
    );
  }
  if (event.tenantId !== trace.sourceTenant) {
    throw lineError(
      path,
      lineNo,
      `trace "${event.traceId}" switches tenant from "${trace.sourceTenant}" to "${event.tenantId}"`,
      FIX_HINT,
    );
  }
  if (breaks.some((b) => b.rule === 'prev-hash')) {
    throw lineError(
      path,
      lineNo,
      `hash-chain broken at seq ${event.seq}: prevHash does not match the previous event's hash`,
      'The file was edited or events were dropped; export the trace again from its source.',
    );
  }
  if (breaks.some((b) => b.rule === 'content-hash')) {
    throw lineError(
      path,
      lineNo,
      `hash-chain broken at seq ${event.seq}: the event's content does not match its hash (it was altered)`,
      'The file was edited after export; export the trace again from its source.',
    );
  }
}

/** Where NDJSON goes: a CLI Output, or anything whose write waits for the text to be taken (backpressure). */
export interface TextSink {
  write(text: string): Promise<void>;
}

/** Writes events as NDJSON to a sink; returns how many. */
export async function writeNdjson(events: AsyncIterable<StoredEvent>, out: TextSink): Promise<number> {
  let count = 0;
  for await (const e of events) {
    await out.write(`${JSON.stringify(e)}\n`);
    count += 1;
  }
  return count;
}

/** A sink over a stream that waits for 'drain' when its buffer is full, so a large trace holds bounded memory. */
function streamSink(stream: NodeJS.WritableStream): TextSink {
  return {
    async write(text) {
      if (!stream.write(text)) await once(stream, 'drain');
    },
  };
}

/**
 * Writes NDJSON to a file through a temporary sibling and a rename, so a failed export (unknown trace, corrupt event,
 * full disk) never leaves a half-written file that a later import would take for a whole trace.
 */
export async function writeNdjsonFile(path: string, events: AsyncIterable<StoredEvent>): Promise<number> {
  const target = resolve(path);
  const temp = `${target}.tmp-${process.pid}`;
  const fail = (err: unknown): OutputFileError =>
    new OutputFileError(
      `Cannot write ${path}: ${err instanceof Error ? err.message : String(err)}.`,
      'Check that the folder is writable and the disk has space, or write to stdout (omit --out).',
      { cause: err },
    );
  try {
    mkdirSync(dirname(target), { recursive: true });
  } catch (err) {
    throw fail(err);
  }
  const stream = createWriteStream(temp, { encoding: 'utf8' });
  const opened = once(stream, 'open').then(
    () => undefined,
    (err: unknown) => fail(err),
  );
  const openError = await opened;
  if (openError) throw openError;
  try {
    const count = await writeNdjson(events, streamSink(stream));
    stream.end();
    await once(stream, 'finish');
    renameSync(temp, target);
    return count;
  } catch (err) {
    stream.destroy();
    rmSync(temp, { force: true });
    if (isRetraceError(err)) throw err;
    throw fail(err);
  }
}
