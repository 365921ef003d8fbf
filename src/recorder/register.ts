/**
 * Zero-code mode: `node --import agent-retrace/register agent.js` (and `retrace record -- <command>`) records the whole
 * process as one trace, without touching the agent's code.
 *
 * Configuration (environment):
 *   RETRACE_STORE     store URL (default sqlite:.retrace/retrace.db)
 *   RETRACE_TENANT    tenant (default "default")
 *   RETRACE_AGENT     agent name (default: the script's file name)
 *   RETRACE_TRACE_ID  preset trace id (so `retrace record` can print it before the run)
 *   RETRACE_PRICING   a JSON pricing file merged over the shipped table
 *   RETRACE_ENV_ALLOW extra environment variable names to record (comma separated; secrets never are)
 *   RETRACE_STDOUT_LIMIT bytes of stdout kept in the trace's output (default 65536; 0 = none)
 *
 * The trace starts with agent_started (mode "process", argv, allow-listed env) and ends with agent_completed
 * ({ exitCode: 0, stdout }) when the process exits with 0, or agent_failed (the uncaught error, or the non-zero exit
 * code). SIGINT/SIGTERM end it as failed after a synchronous flush; a SIGKILL leaves it `incomplete`.
 */
import { writeSync } from 'node:fs';
import { basename } from 'node:path';
import { isRetraceError } from '../errors.js';
import { defaultStoreUrl, openStore, sqlitePathOf } from '../store/open-store.js';
import { internal, suppressed } from './context.js';
import { allowListedEnv } from './environment.js';
import { addExitHook, lastUncaughtError } from './exit.js';
import { toProjectPath } from './project-root.js';
import { createRecorder } from './recorder.js';
import { isLauncherScript, withoutRecorderPreload } from './wrapper-process.js';
import type { Terminal } from './run.js';
import { errorInfo } from './serialize.js';

const env = process.env;
const script = process.argv[1];
const agent = (env.RETRACE_AGENT ?? '').trim() || (script ? basename(script) : 'process');
// a launcher in front of the agent (npm, npx, the tsx command): not the trace; its child process is
const launcher = isLauncherScript(script);
const presetTraceId = (env.RETRACE_TRACE_ID ?? '').trim();
// `retrace record` prints the trace id itself; run directly (`node --import agent-retrace/register`), we do
const announce = env.RETRACE_RECORD_CLI !== '1';
if (!launcher) {
  // the agent's own process: its children are not recorded into this trace
  const rest = withoutRecorderPreload(env.NODE_OPTIONS);
  if (rest === '') delete env.NODE_OPTIONS;
  else env.NODE_OPTIONS = rest;
  delete env.RETRACE_TRACE_ID;
}
if (!launcher) await startRecording();

async function startRecording(): Promise<void> {
  const url = defaultStoreUrl();
  let store: Awaited<ReturnType<typeof openStore>>;
  try {
    // opened here so a bad store fails the run at its start, with the store's own error
    store = await openStore(url);
  } catch (err) {
    const text = isRetraceError(err) ? err.describe() : String(err);
    process.stderr.write(`retrace: cannot open the store for recording: ${text}\n`);
    process.exit(2);
  }
  // the embedded store is then handed over by URL: the recorder writes it from a worker thread (writer.ts), so the
  // agent's event loop does not wait for each batch's fsync; other backends are written through the open store
  const embedded = sqlitePathOf(url) !== undefined;
  if (embedded) await store.close();

  const recorder = createRecorder({
    store: embedded ? url : store,
    ...(env.RETRACE_TENANT ? { tenant: env.RETRACE_TENANT } : {}),
    ...(env.RETRACE_PRICING ? { pricing: env.RETRACE_PRICING } : {}),
  });

  const stdoutLimit = Number.parseInt(env.RETRACE_STDOUT_LIMIT ?? '65536', 10);
  let stdout = '';
  let stdoutDropped = 0;
  if (Number.isFinite(stdoutLimit) && stdoutLimit > 0) {
    const original = process.stdout.write;
    process.stdout.write = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]): boolean {
      const text =
        typeof chunk === 'string'
          ? chunk
          : Buffer.isBuffer(chunk) || chunk instanceof Uint8Array
            ? Buffer.from(chunk).toString('utf8')
            : '';
      const room = stdoutLimit - stdout.length;
      if (room > 0) stdout += text.slice(0, room);
      if (text.length > room) stdoutDropped += text.length - Math.max(0, room);
      return (original as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
    } as typeof process.stdout.write;
  }

  const run = recorder.startProcessRun({
    agent,
    ...(presetTraceId ? { traceId: presetTraceId } : {}),
    input: { argv: process.argv.slice(2) },
    environment: scriptEnvironment(),
    metadata: { execArgv: process.execArgv },
  });

  /** argv with the script made project-relative (so the trace replays in another checkout), and the project root */
  function scriptEnvironment() {
    const argv = process.argv.slice(1);
    const located = script ? toProjectPath(script, process.cwd()) : undefined;
    if (located) argv[0] = located.path;
    return { argv, env: suppressed(() => allowListedEnv(env)), ...(located ? { projectRoot: located.root } : {}) };
  }

  function terminal(code: number): Terminal {
    const uncaught = lastUncaughtError();
    if (uncaught !== undefined) return { type: 'agent_failed', error: errorInfo(uncaught) };
    if (code !== 0) {
      return {
        type: 'agent_failed',
        error: { name: 'NonZeroExit', message: `The process exited with code ${code}.`, code: String(code) },
      };
    }
    const output: { exitCode: number; stdout?: string; stdoutTruncatedBytes?: number } = { exitCode: 0 };
    if (stdoutLimit > 0) output.stdout = stdout;
    if (stdoutDropped > 0) output.stdoutTruncatedBytes = stdoutDropped;
    return { type: 'agent_completed', output };
  }

  let ending = false;
  // the event loop emptied: end the trace asynchronously (works with every store)
  process.on('beforeExit', (code) => {
    if (ending) return;
    ending = true;
    void internal(() => run.finish(terminal(code)));
  });
  // process.exit(), an uncaught error, a signal: end it synchronously (embedded store)
  addExitHook((code) => {
    if (!ending) {
      ending = true;
      run.finishSync(terminal(code));
    } else {
      run.flushSync();
    }
    if (announce) {
      // like `retrace record`: the id to replay, on stderr (stdout is the agent's)
      writeSync(
        2,
        `retrace: recorded trace ${run.traceId} (${run.eventCount} events) → retrace replay ${run.traceId}\n`,
      );
    }
  });
}
