import { appendFileSync } from 'node:fs';
import type { AppendOptions, AppendResult } from '../src/store/types.js';
import type { JournalEntry } from '../src/replay/sandbox/journal.js';
import {
  ChildMessageSchema,
  ParentMessageSchema,
  type ChildMessageInput,
  type SandboxJob,
} from '../src/replay/sandbox/protocol.js';
import { sealOf } from '../src/replay/sandbox/seal.js';

/**
 * The child half of the protocol (the parent half is src/replay/sandbox/launch.ts): messages to the parent are
 * schema-checked and sealed before they leave, messages from it are checked on arrival; appends wait for the
 * parent's acknowledgement. The seal key arrives with the job and lives only in the closure `listen` hands to
 * `run`: this module exports no state, so agent code that imports it gets no way to send sealed messages.
 */

export interface Channel {
  send(message: ChildMessageInput): Promise<void>;
  /** sends one batch of events to the parent, which appends them to the replay trace; resolves with its result */
  requestAppend(events: readonly Record<string, unknown>[], options?: AppendOptions): Promise<AppendResult>;
  /** zero-code mode: one sealed line in the journal at `path`, written synchronously */
  journal(path: string, entry: JournalEntry): void;
}

interface AppendAck {
  resolve(v: AppendResult): void;
  reject(e: Error): void;
}

/** Listens to the parent: the first init starts `run` with the channel, append results settle its appends. */
export function listen(run: (job: SandboxJob, channel: Channel) => Promise<void>): void {
  const pendingAppends = new Map<number, AppendAck>();
  let appendId = 0;
  let started = false;
  let sent = 0;
  let journaled = 0;
  let key = '';

  const channel: Channel = {
    send(message) {
      // validate what we send too: a schema drift between the two sides shows up here, named
      const body = JSON.parse(JSON.stringify(ChildMessageSchema.parse(message))) as unknown;
      const n = sent++;
      const sealed = { n, mac: sealOf(key, n, body), body };
      return new Promise((resolve) => {
        if (!process.send || !process.connected) return resolve();
        process.send(sealed, undefined, {}, () => resolve());
      });
    },
    requestAppend(events, options) {
      const id = ++appendId;
      return new Promise<AppendResult>((resolve, reject) => {
        pendingAppends.set(id, { resolve, reject });
        void channel.send({
          type: 'append',
          id,
          events: [...events],
          ...(options?.expectedRevision !== undefined ? { expectedRevision: options.expectedRevision } : {}),
        });
      });
    },
    journal(path, entry) {
      const body = JSON.parse(JSON.stringify(entry)) as unknown;
      const n = journaled++;
      appendFileSync(path, `${JSON.stringify({ n, mac: sealOf(key, n, body), body })}\n`);
    },
  };

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
      key = msg.job.sealKey;
      void run({ ...msg.job, sealKey: '' }, channel).catch(async (err: unknown) => {
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
