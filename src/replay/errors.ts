import { RetraceError, ValidationError } from '../errors.js';

/**
 * Errors that mean a replay could not run. Divergence is never an error: replayTrace returns it as the
 * verdict. Every class has a stable `code`; callers switch on it.
 */

/** The trace records no agent entry (or argv for a zero-code trace) and the caller gave none. */
export class NoAgentEntryError extends ValidationError {
  override readonly code = 'REPLAY_NO_ENTRY';
  constructor(readonly traceId: string) {
    super(
      `Trace "${traceId}" records no agent entry, and none was given.`,
      'Pass the agent explicitly: replayTrace({ agent: "path/to/agent.ts#exportName" }) or `retrace replay --agent path#export`.',
      'agent',
    );
  }
}

/** The entry module does not exist (neither relative to the recorded cwd nor to the current one). */
export class EntryNotFoundError extends ValidationError {
  override readonly code = 'REPLAY_ENTRY_NOT_FOUND';
  constructor(
    readonly entry: string,
    readonly tried: readonly string[],
  ) {
    super(
      `The agent module "${entry}" does not exist (looked at ${tried.join(', ')}).`,
      'Run the replay from the project the trace was recorded in, or pass --agent with the path of the agent module.',
      'agent',
    );
  }
}

/** The entry module loaded but does not export a function under the recorded name. */
export class EntryExportMissingError extends ValidationError {
  override readonly code = 'REPLAY_ENTRY_EXPORT_MISSING';
  constructor(
    readonly file: string,
    readonly exportName: string,
    readonly available: readonly string[],
  ) {
    super(
      `The agent module ${file} has no exported function "${exportName}"${available.length ? ` (it exports: ${available.join(', ')})` : ''}.`,
      'Pass --agent path#exportName naming the function that runs the agent.',
      'agent',
    );
  }
}

/** The entry module threw while loading (syntax error, a missing import, an access denied at import time). */
export class EntryLoadError extends ValidationError {
  override readonly code = 'REPLAY_ENTRY_LOAD_FAILED';
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(
      `The agent module ${file} failed to load in the sandbox: ${detail}`,
      'Fix the module (run it once outside retrace to see the error), then replay again.',
      'agent',
    );
  }
}

/** The response override file is missing, not JSON, fails its schema, or names a seq that is not an LLM response. */
export class OverrideInvalidError extends ValidationError {
  override readonly code = 'REPLAY_OVERRIDE_INVALID';
  constructor(
    message: string,
    hint = 'An override is JSON: { "seq": <seq of a recorded llm_request or llm_response>, "body": <replacement response body> } (or "chunks": [..SSE data..] for a streamed response).',
  ) {
    super(message, hint, 'override');
  }
}

/** Options that contradict each other or the trace (until beyond the end, an unknown policy …). */
export class ReplayOptionError extends ValidationError {
  override readonly code = 'REPLAY_BAD_OPTION';
}

/** The sandboxed child could not be started, hung, ran out of memory or died. */
export abstract class SandboxError extends RetraceError {
  constructor(
    message: string,
    hint: string,
    readonly stderrTail: string,
    readonly replayTraceId?: string,
    options?: { cause?: unknown },
  ) {
    super(message, hint, 'environment', options);
  }
}

export class SandboxTimeoutError extends SandboxError {
  readonly code = 'SANDBOX_TIMEOUT';
  constructor(
    readonly timeoutMs: number,
    stderrTail: string,
    replayTraceId?: string,
  ) {
    super(
      `The replay did not finish within ${timeoutMs} ms; the sandbox was killed.`,
      'The agent may wait on something the recording cannot answer. Raise timeoutMs (--timeout) if it is just slow, or replay with --until to find where it stops.',
      stderrTail,
      replayTraceId,
    );
  }
}

export class SandboxOutOfMemoryError extends SandboxError {
  readonly code = 'SANDBOX_OUT_OF_MEMORY';
  constructor(
    readonly memoryMb: number,
    stderrTail: string,
    replayTraceId?: string,
  ) {
    super(
      `The replayed agent ran out of memory (cap ${memoryMb} MB); the sandbox was killed.`,
      'If the agent legitimately needs more, raise the cap: --memory-mb N on `retrace replay` / `retrace ci`, or memoryMb in replayTrace().',
      stderrTail,
      replayTraceId,
    );
  }
}

export class SandboxCrashedError extends SandboxError {
  readonly code = 'SANDBOX_CRASHED';
  constructor(
    readonly exitCode: number | null,
    readonly signal: string | null,
    stderrTail: string,
    replayTraceId?: string,
  ) {
    super(
      `The sandbox process died before the replay finished (${signal ? `signal ${signal}` : `exit code ${exitCode}`}).${stderrTail ? `\n${stderrTail}` : ''}`,
      'Look at the output above; an agent that calls process.exit or crashes natively ends the replay this way.',
      stderrTail,
      replayTraceId,
    );
  }
}

export class SandboxStartError extends SandboxError {
  readonly code = 'SANDBOX_START_FAILED';
  constructor(detail: string, stderrTail: string, options?: { cause?: unknown }) {
    super(
      `The replay sandbox could not start: ${detail}`,
      'Check that Node ≥ 20.19 runs retrace and that its files are readable.',
      stderrTail,
      undefined,
      options,
    );
  }
}

/** The child sent a message that fails the protocol schema: treated as a crash of the sandbox. */
export class SandboxProtocolError extends SandboxError {
  readonly code = 'SANDBOX_PROTOCOL';
  constructor(detail: string, stderrTail: string) {
    super(
      `The sandbox sent an invalid message: ${detail}`,
      "An agent that writes to the sandbox's IPC channel or journal itself causes this (only what retrace's runtime seals is accepted); otherwise it is a bug in retrace: report it with the trace id.",
      stderrTail,
    );
  }
}

/** The recording cannot be replayed: e.g. a trace with no agent_started. */
export class TraceNotReplayableError extends ValidationError {
  override readonly code = 'TRACE_NOT_REPLAYABLE';
}

/**
 * Thrown *inside the sandbox* into the agent's request or tool call when the recording has no answer under the
 * `error` policy (or after the replay reached its `until` point). The agent sees it the way it would see a network
 * error; the replay report names the request. Never thrown by replayTrace itself.
 */
export class ReplayMissError extends RetraceError {
  readonly code: string = 'REPLAY_MISS';
  constructor(message: string) {
    super(
      message,
      'The agent made a request the recording has no answer for. See the replay report for the diff against the nearest recorded request.',
      'divergence',
    );
  }
}

export class ReplayStoppedError extends ReplayMissError {
  override readonly code = 'REPLAY_STOPPED';
}
