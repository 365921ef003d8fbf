/**
 * The end-of-run warning for requests that no capture path saw (a client with its own undici dispatcher, see
 * dispatcher.ts): they are missing from the trace, and a replay would fail on them, so the user is told which
 * origins they went to and what to change — never a silently incomplete trace.
 */
export function warnUncaptured(traceId: string, origins: ReadonlySet<string>): void {
  const list = [...origins].slice(0, 5).join(', ');
  const more = origins.size > 5 ? ` and ${origins.size - 5} more` : '';
  process.emitWarning(
    `retrace: trace ${traceId}: requests to ${list}${more} were made by an HTTP client retrace could not capture ` +
      '(one with its own undici dispatcher/Agent); they are not in the trace and a replay cannot answer them. ' +
      "Let that client use Node's global fetch (no custom `dispatcher`), or set the dispatcher with undici's setGlobalDispatcher before creating the recorder.",
    { code: 'RETRACE_UNCAPTURED_CLIENT' },
  );
}
