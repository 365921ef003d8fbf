/**
 * The recorder's store writer thread (started by writer.ts): its own connection to the embedded store file, so the
 * validation, hashing and fsync'd commit of each batch happen here and not on the agent's event loop. Requests are
 * handled one at a time in arrival order — the order the runs' writers sent them — through the store's own append,
 * so the hash chain, idempotency and revision checks are exactly the in-thread ones.
 */
import { workerData } from 'node:worker_threads';
import { SqliteEventStore } from '../store/sqlite/sqlite-store.js';
import { serializeError, type WriterData, type WriterReply, type WriterRequest } from './writer-protocol.js';

const { path, port, state } = workerData as WriterData;
const acknowledged = new Int32Array(state);
let store: SqliteEventStore | undefined;
let openError: unknown;

/** opened on the first request, like the in-thread writer: a store that cannot be opened fails each append alike */
function open(): SqliteEventStore {
  if (store) return store;
  if (openError !== undefined) throw openError;
  try {
    store = new SqliteEventStore(path);
    return store;
  } catch (err) {
    openError = err;
    throw err;
  }
}

port.on('message', (request: WriterRequest) => {
  if (request.kind === 'close') {
    void store?.close();
    store = undefined;
    port.postMessage({ id: request.id, ok: true } satisfies WriterReply);
    port.close();
    return;
  }
  let reply: WriterReply;
  try {
    const result = open().appendSync(request.tenantId, request.traceId, request.events, request.options);
    reply = { id: request.id, ok: true, result };
  } catch (err) {
    reply = { id: request.id, ok: false, error: serializeError(err) };
  }
  port.postMessage(reply);
  if (request.sync) {
    // after the reply is queued: the main thread wakes and takes it with receiveMessageOnPort
    Atomics.store(acknowledged, 0, request.id);
    Atomics.notify(acknowledged, 0);
  }
});
