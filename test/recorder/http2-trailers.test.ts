import { connect, createServer, type Http2Server, type IncomingHttpHeaders } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createRecorder } from '../../src/recorder/index.js';
import { buildReplayCache } from '../../src/replay/cache/build.js';
import { ReplayCache } from '../../src/replay/cache/lookup.js';
import { createReplayHooks } from '../../src/replay/hooks.js';
import { readTrace, tempStore } from './helpers.js';

/**
 * HTTP/2 response trailers (the HEADERS frame after the body, as gRPC ends every call with grpc-status): recorded on
 * the response event beside its headers, redacted like them, and sent again after the body when the replay answers
 * from the recording with no server behind it.
 */
const SECRET = 'trailer-secret-0123456789abcdef';
let server: Http2Server;
let url = '';
let served = 0;

beforeAll(async () => {
  server = createServer();
  server.on('stream', (stream) => {
    served++;
    stream.resume();
    stream.on('end', () => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc+proto' }, { waitForTrailers: true });
      stream.on('wantTrailers', () =>
        stream.sendTrailers({ 'grpc-status': '0', 'grpc-message': 'OK', 'x-api-key': SECRET }),
      );
      stream.write(Buffer.from([0, 0, 0, 0, 2, 8, 1]));
      stream.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

interface Call {
  status: number;
  bytes: number;
  trailers: Record<string, string>;
  /** whether 'trailers' came before 'end', as Node emits them */
  trailersBeforeEnd: boolean;
}

/** A gRPC-style unary call: POST, a framed message, the status in the trailers. */
function grpcCall(): Promise<Call> {
  return new Promise((resolve, reject) => {
    const session = connect(url);
    session.on('error', reject);
    const stream = session.request({
      ':method': 'POST',
      ':path': '/retrace.Echo/Say',
      'content-type': 'application/grpc+proto',
      te: 'trailers',
    });
    let status = 0;
    let bytes = 0;
    let trailers: Record<string, string> = {};
    let trailersSeen = false;
    stream.on('response', (h) => {
      status = Number(h[':status']);
    });
    stream.on('trailers', (h: IncomingHttpHeaders) => {
      trailersSeen = true;
      trailers = Object.fromEntries(Object.entries(h).map(([k, v]) => [k, String(v)]));
    });
    stream.on('data', (d: Buffer) => {
      bytes += d.length;
    });
    stream.on('end', () => {
      const trailersBeforeEnd = trailersSeen;
      session.close();
      resolve({ status, bytes, trailers, trailersBeforeEnd });
    });
    stream.on('error', reject);
    stream.end(Buffer.from([0, 0, 0, 0, 2, 10, 0]));
  });
}

test('HTTP/2 trailers are recorded, redacted like headers, and replayed after the body without a server', async () => {
  const t = tempStore();
  try {
    const recorder = createRecorder({ store: t.store, tenant: 'h2t' });
    const live = await recorder.run({ agent: 'h2-trailers' }, grpcCall);
    await recorder.close();
    expect(live.output).toEqual({
      status: 200,
      bytes: 7,
      trailers: { 'grpc-status': '0', 'grpc-message': 'OK', 'x-api-key': SECRET },
      trailersBeforeEnd: true,
    });
    const recorded = await readTrace(t.store, 'h2t', live.traceId);
    const res = recorded.find((e) => e.type === 'http_response');
    expect(res?.type === 'http_response' && res.payload.trailers).toEqual({
      'grpc-status': '0',
      'grpc-message': 'OK',
      'x-api-key': '[REDACTED]',
    });
    expect(JSON.stringify(recorded).includes(SECRET)).toBe(false);

    const before = served;
    const hooks = createReplayHooks({
      cache: new ReplayCache(buildReplayCache(recorded)),
      onMiss: 'error',
      fast: true,
      report: () => undefined,
    });
    const replayer = createRecorder({ store: t.store, tenant: 'h2t', hooks });
    const replayed = await replayer.run({ agent: 'h2-trailers-replay' }, grpcCall);
    await replayer.close();
    expect(hooks.misses).toEqual([]);
    expect(served).toBe(before);
    // the agent sees the trailers as recorded (a redacted value stays redacted), still before the end of the stream
    expect(replayed.output).toEqual({
      status: 200,
      bytes: 7,
      trailers: { 'grpc-status': '0', 'grpc-message': 'OK', 'x-api-key': '[REDACTED]' },
      trailersBeforeEnd: true,
    });
    const again = (await readTrace(t.store, 'h2t', replayed.traceId)).find((e) => e.type === 'http_response');
    expect(again?.type === 'http_response' && again.payload.trailers).toEqual(
      res?.type === 'http_response' ? res.payload.trailers : undefined,
    );
  } finally {
    await t.cleanup();
  }
});
