import type { AppendOptions, AppendResult } from '../src/store/types.js';
import {
  ChildMessageSchema,
  ParentMessageSchema,
  type ChildMessageInput,
  type SandboxJob,
} from '../src/replay/sandbox/protocol.js';

/**
 * The child half of the protocol (the parent half is src/replay/sandbox/launch.ts): messages to the parent are
 * schema-checked before they leave, messages from it on arrival; appends wait for the parent's acknowledgement.
 */

export function send(message: ChildMessageInput): Promise<void> {
  // validate what we send too: a schema drift between the two sides shows up here, named
  const checked = ChildMessageSchema.parse(message);
  return new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve();
    process.send(checked, undefined, {}, () => resolve());
  });
}

interface AppendAck {
  resolve(v: AppendResult): void;
  reject(e: Error): void;
}
const pendingAppends = new Map<number, AppendAck>();
let appendId = 0;
let started = false;

/** Sends one batch of events to the parent, which appends them to the replay trace; resolves with its result. */
export function requestAppend(
  events: readonly Record<string, unknown>[],
  options?: AppendOptions,
): Promise<AppendResult> {
  const id = ++appendId;
  return new Promise<AppendResult>((resolve, reject) => {
    pendingAppends.set(id, { resolve, reject });
    void send({
      type: 'append',
      id,
      events: [...events],
      ...(options?.expectedRevision !== undefined ? { expectedRevision: options.expectedRevision } : {}),
    });
  });
}

/** Listens to the parent: the first init starts `run`, append results settle requestAppend's promises. */
export function listen(run: (job: SandboxJob) => Promise<void>): void {
  // the parent is gone: never outlive it
  process.on('disconnect', () => process.exit(70));
  process.on('message', (raw: unknown) => {
    const parsed = ParentMessageSchema.safeParse(raw);
    if (!parsed.success) {
      process.stderr.write(`retrace sandbox: invalid message from the parent: ${parsed.error.message}\n`);
      process.exit(71);
    }
    const msg = parsed.data;
    if (msg.type === 'init') {
      if (started) return;
      started = true;
      void run(msg.job).catch(async (err: unknown) => {
        process.stderr.write(`retrace sandbox: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
        process.exit(72);
      });
    } else {
      const ack = pendingAppends.get(msg.id);
      if (!ack) return;
      pendingAppends.delete(msg.id);
      if (msg.ok && msg.result) ack.resolve(msg.result);
      else
        ack.reject(
          Object.assign(new Error(msg.error?.message ?? 'append failed'), {
            name: msg.error?.name ?? 'Error',
            code: msg.error?.code,
          }),
        );
    }
  });
}
