/**
 * Every error retrace throws on purpose is a RetraceError: a stable machine-readable `code`, a message that says what
 * went wrong, and a `hint` that says what to do next. The CLI prints `message` and `hint` and maps `exitCategory` to
 * its exit code; library callers switch on `code` (stable across versions), never on the message text.
 */
export type ExitCategory = 'input' | 'environment' | 'divergence';

export abstract class RetraceError extends Error {
  abstract readonly code: string;
  readonly hint: string;
  readonly exitCategory: ExitCategory;

  constructor(message: string, hint: string, exitCategory: ExitCategory, options?: { cause?: unknown }) {
    super(message, options);
    this.hint = hint;
    this.exitCategory = exitCategory;
    this.name = new.target.name;
  }

  /** message plus hint, the way a person should read it */
  describe(): string {
    return this.hint ? `${this.message}\n  → ${this.hint}` : this.message;
  }
}

/** Input that failed validation: a bad id, an event that fails its schema, a malformed file or flag. */
export class ValidationError extends RetraceError {
  readonly code: string = 'VALIDATION_FAILED';
  constructor(
    message: string,
    hint: string,
    readonly field?: string,
    options?: { cause?: unknown },
  ) {
    super(message, hint, 'input', options);
  }
}

export class InvalidIdError extends ValidationError {
  override readonly code = 'INVALID_ID';
}

export class EventTooLargeError extends ValidationError {
  override readonly code = 'EVENT_TOO_LARGE';
}

export class TraceTooLargeError extends ValidationError {
  override readonly code = 'TRACE_TOO_LARGE';
}

/** An append that breaks the trace lifecycle (src/events/lifecycle.ts): names the offending event and the rule. */
export class LifecycleError extends ValidationError {
  override readonly code = 'LIFECYCLE_VIOLATION';
  constructor(
    message: string,
    hint: string,
    readonly rule: string,
    readonly eventId: string,
    readonly eventType: string,
  ) {
    super(message, hint, 'type');
  }
}

/** Optimistic concurrency: the trace is not at the revision the writer expected. */
export class ConcurrencyError extends RetraceError {
  readonly code = 'WRONG_EXPECTED_REVISION';
  constructor(
    readonly traceId: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(
      `Trace "${traceId}" is at revision ${actual}, but the append expected ${expected}.`,
      'Another writer appended first. Read the trace again, then retry the append with expectedRevision set to its last seq (or "any").',
      'input',
    );
  }
}

/** The same eventId already belongs to another trace of this tenant: ids are idempotency keys and may not be reused. */
export class DuplicateEventIdError extends RetraceError {
  readonly code = 'DUPLICATE_EVENT_ID';
  constructor(
    readonly eventId: string,
    readonly existingTraceId: string,
    readonly traceId: string,
  ) {
    super(
      `Event id ${eventId} is already stored in trace "${existingTraceId}", so it cannot be appended to trace "${traceId}".`,
      'Give every event a fresh UUID; reuse an eventId only to retry the very same append.',
      'input',
    );
  }
}

export class TraceNotFoundError extends RetraceError {
  readonly code = 'TRACE_NOT_FOUND';
  constructor(
    readonly tenantId: string,
    readonly traceId: string,
  ) {
    super(
      `No trace "${traceId}" for tenant "${tenantId}".`,
      'Check the trace id and the tenant (--tenant / RETRACE_TENANT); `retrace list` shows the traces this store holds.',
      'input',
    );
  }
}

/** The store file or server cannot be used: not a retrace store, corrupt, unreachable, or read-only. */
export class StoreError extends RetraceError {
  readonly code: string = 'STORE_UNAVAILABLE';
  constructor(message: string, hint: string, options?: { cause?: unknown }) {
    super(message, hint, 'environment', options);
  }
}

export class NotARetraceStoreError extends StoreError {
  override readonly code = 'NOT_A_RETRACE_STORE';
}

export class StoreCorruptError extends StoreError {
  override readonly code = 'STORE_CORRUPT';
}

export class ReadOnlyStoreError extends StoreError {
  override readonly code = 'STORE_READ_ONLY';
}

export class UnsupportedStoreUrlError extends ValidationError {
  override readonly code = 'UNSUPPORTED_STORE_URL';
}

/** A stored event that no longer matches its schema or its hash chain. */
export class CorruptEventError extends StoreError {
  override readonly code = 'CORRUPT_EVENT';
  constructor(
    message: string,
    hint: string,
    readonly traceId: string,
    readonly seq: number,
  ) {
    super(message, hint);
  }
}

/** A file the user named cannot be read (missing, a folder, no permission): their input, so exit 2. */
export class InputFileError extends ValidationError {
  override readonly code = 'INPUT_FILE_UNREADABLE';
}

/** A file retrace must write cannot be written: the environment's fault, so exit 3. */
export class OutputFileError extends StoreError {
  override readonly code = 'OUTPUT_FILE_UNWRITABLE';
}

export function isRetraceError(err: unknown): err is RetraceError {
  return err instanceof RetraceError;
}

/**
 * A feature needs a package that agent-retrace lists as an optional peer dependency (the KurrentDB client, the AWS
 * S3 SDK, msw): the user pays for it only when they use the feature, and then installs it with `installCommand`.
 */
export class OptionalDependencyMissingError extends RetraceError {
  readonly code = 'OPTIONAL_DEPENDENCY_MISSING';
  constructor(
    readonly packageName: string,
    readonly feature: string,
    readonly installCommand: string,
    options?: { cause?: unknown },
  ) {
    super(
      `${feature} needs the package ${packageName}, which is not installed.`,
      `Install it next to agent-retrace: ${installCommand}`,
      'environment',
      options,
    );
  }
}
