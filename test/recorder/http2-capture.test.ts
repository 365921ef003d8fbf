import { connect, createServer, type Http2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createRecorder } from '../../src/recorder/index.js';
import type { InterceptedRequest, ReplayHooks } from '../../src/recorder/hooks.js';
import { readTrace, tempStore, typesOf } from './helpers.js';

/**
 * node:http2 client capture outside the Bedrock SDK: an ESM named import of `connect`, a POST with a body written
 * after request(), a streamed answer, and a replay whose hooks answer without any socket.
 */
let server: Http2Server;
let url = '';
let served = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    served++;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write(`${req.method} ${req.url} `);
      setTimeout(() => res.end(Buffer.concat(chunks).toString()), 5);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function post(path: string, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const session = connect(url);
    session.on('error', reject);
    const stream = session.request({ ':method': 'POST', ':path': path, 'content-type': 'text/plain' });
    let status = 0;
    let text = '';
    stream.on('response', (h) => {
      status = Number(h[':status']);
    });
    stream.setEncoding('utf8');
    stream.on('data', (d: string) => {
      text += d;
    });
    stream.on('end', () => {
      session.close();
      resolve({ status, text });
    });
    stream.on('error', reject);
    stream.write(body.slice(0, 3));
    stream.end(body.slice(3));
  });
}

test('an HTTP/2 request and its streamed response are recorded as the caller saw them', async () => {
  const t = tempStore();
  const recorder = createRecorder({ store: t.store, tenant: 'h2' });
  try {
    const r = await recorder.run({ agent: 'h2' }, () => post('/echo?x=1', 'hello h2'));
    expect(r.output).toEqual({ status: 200, text: 'POST /echo?x=1 hello h2' });
    const events = await readTrace(t.store, 'h2', r.traceId);
    expect(typesOf(events).filter((x) => x.startsWith('http'))).toEqual(['http_request', 'http_response']);
    const req = events.find((e) => e.type === 'http_request');
    const res = events.find((e) => e.type === 'http_response');
    expect(req?.type === 'http_request' && [req.payload.method, req.payload.url, req.payload.body]).toEqual([
      'POST',
      `${url}/echo?x=1`,
      'hello h2',
    ]);
    expect(res?.type === 'http_response' && [res.payload.status, res.payload.body]).toEqual([
      200,
      'POST /echo?x=1 hello h2',
    ]);
  } finally {
    await recorder.close();
    await t.cleanup();
  }
});

test('in replay, the hooks answer HTTP/2 requests and no connection is opened', async () => {
  const t = tempStore();
  const asked: InterceptedRequest[] = [];
  const hooks: ReplayHooks = {
    async respondHttp(req) {
      asked.push(req);
      return new Response('from the recording', { status: 203, headers: { 'content-type': 'text/plain' } });
    },
    nextValue: () => undefined,
    respondTool: async () => 'run-live',
  };
  const recorder = createRecorder({ store: t.store, tenant: 'h2', hooks });
  const before = served;
  try {
    const r = await recorder.run({ agent: 'h2' }, () => post('/echo', 'replayed body'));
    expect(r.output).toEqual({ status: 203, text: 'from the recording' });
    expect(served).toBe(before);
    expect(asked.map((a) => [a.transport, a.method, a.body])).toEqual([['http2', 'POST', 'replayed body']]);
    const events = await readTrace(t.store, 'h2', r.traceId);
    const res = events.find((e) => e.type === 'http_response');
    expect(res?.type === 'http_response' && res.payload.status).toBe(203);
  } finally {
    await recorder.close();
    await t.cleanup();
  }
});
