import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { StoredEventOf } from '../../src/events/envelope.js';
import { createRecorder, type Recorder } from '../../src/recorder/index.js';
import { readTrace, tempStore, typesOf } from './helpers.js';

/**
 * What the interception path covers: `import { request } from 'node:https'` (an ESM named import, bound before the
 * recorder existed), gzip bodies over node:http (recorded decoded), binary bodies (base64), and requests outside any
 * run (passed through, unrecorded).
 */
let t: ReturnType<typeof tempStore>;
let recorder: Recorder;
let httpUrl = '';
let httpsUrl = '';
const servers: Array<{ close(cb: () => void): void }> = [];

function handler(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    if (req.url === '/gzip') {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      res.end(gzipSync(JSON.stringify({ hello: 'compressed world' })));
    } else if (req.url === '/binary') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(Buffer.from([0, 255, 1, 254, 128]));
    } else {
      res.writeHead(201, { 'content-type': 'text/plain', 'set-cookie': 'sid=abcdefghijklmnop' });
      res.end(`${req.method} ${req.url} ${Buffer.concat(chunks).toString()}`);
    }
  });
}

beforeAll(async () => {
  t = tempStore();
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      join(t.dir, 'key.pem'),
      '-out',
      join(t.dir, 'cert.pem'),
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
    ],
    { stdio: 'ignore' },
  );
  const https = createHttpsServer(
    { key: readFileSync(join(t.dir, 'key.pem')), cert: readFileSync(join(t.dir, 'cert.pem')) },
    handler,
  );
  const http = createHttpServer(handler);
  await new Promise<void>((r) => https.listen(0, '127.0.0.1', r));
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  servers.push(https, http);
  httpsUrl = `https://127.0.0.1:${(https.address() as AddressInfo).port}`;
  httpUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  recorder = createRecorder({ store: t.store });
});
afterAll(async () => {
  await recorder.close();
  for (const s of servers) await new Promise<void>((r) => s.close(() => r()));
  await t.cleanup();
});

function viaHttps(path: string, body: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      `${httpsUrl}${path}`,
      { method: 'POST', rejectUnauthorized: false, headers: { 'content-type': 'text/plain' } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve(text));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

test('ESM named import of node:https is intercepted and recorded', async () => {
  const { output, traceId } = await recorder.run({ agent: 'https' }, () => viaHttps('/items?page=2', 'payload-1'));
  expect(output).toBe('POST /items?page=2 payload-1');
  const events = await readTrace(t.store, 'default', traceId);
  expect(typesOf(events)).toEqual(['agent_started', 'http_request', 'http_response', 'agent_completed']);
  const req = events.find((e): e is StoredEventOf<'http_request'> => e.type === 'http_request');
  expect(req?.payload).toMatchObject({
    method: 'POST',
    url: `${httpsUrl}/items?page=2`,
    body: 'payload-1',
    bodyEncoding: 'utf8',
    occurrence: 0,
  });
  const res = events.find((e): e is StoredEventOf<'http_response'> => e.type === 'http_response');
  expect(res?.payload).toMatchObject({ status: 201, body: output, bodyEncoding: 'utf8' });
  expect(res?.payload.headers?.['set-cookie']).toBe('[REDACTED]');
});

test('gzip over node:http is recorded decoded; fetch too; binary bodies as base64', async () => {
  const { output, traceId } = await recorder.run({ agent: 'encodings' }, async () => {
    // node:http does not decompress: the caller gets the gzip bytes, exactly as without the recorder
    const { get } = await import('node:http');
    const viaHttp = await new Promise<string>((resolve, reject) => {
      get(`${httpUrl}/gzip`, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () => resolve(Buffer.concat(parts).subarray(0, 2).toString('hex')));
      }).on('error', reject);
    });
    const viaFetch = await fetch(`${httpUrl}/gzip`).then((r) => r.json());
    const binaryResponse = await fetch(`${httpUrl}/binary`);
    const bytes: ArrayBuffer = await binaryResponse.arrayBuffer();
    const binary = Buffer.from(bytes).toString('hex');
    return { viaHttp, viaFetch, binary };
  });
  expect(output).toEqual({ viaHttp: '1f8b', viaFetch: { hello: 'compressed world' }, binary: '00ff01fe80' });
  const responses = (await readTrace(t.store, 'default', traceId)).filter(
    (e): e is StoredEventOf<'http_response'> => e.type === 'http_response',
  );
  expect(responses.map((r) => [r.payload.body, r.payload.bodyEncoding])).toEqual([
    ['{"hello":"compressed world"}', 'utf8'],
    ['{"hello":"compressed world"}', 'utf8'],
    [Buffer.from([0, 255, 1, 254, 128]).toString('base64'), 'base64'],
  ]);
  // the body is stored decoded, so the wire-encoding headers are not kept
  expect(responses[0]?.payload.headers?.['content-encoding']).toBeUndefined();
});

test('requests outside any run pass through unrecorded; identical requests inside count occurrences', async () => {
  const before = (await t.store.list('default', { limit: 1000 })).traces.length;
  expect(await viaHttps('/outside', 'x')).toBe('POST /outside x');
  expect(await fetch(`${httpUrl}/outside`).then((r) => r.status)).toBe(201);
  expect((await t.store.list('default', { limit: 1000 })).traces.length).toBe(before);
  const { traceId } = await recorder.run({ agent: 'repeat' }, async () => {
    for (let i = 0; i < 3; i++) await fetch(`${httpUrl}/same`, { method: 'POST', body: 'same' }).then((r) => r.text());
  });
  const reqs = (await readTrace(t.store, 'default', traceId)).filter(
    (e): e is StoredEventOf<'http_request'> => e.type === 'http_request',
  );
  expect(reqs.map((r) => r.payload.occurrence)).toEqual([0, 1, 2]);
  expect(new Set(reqs.map((r) => r.payload.requestHash)).size).toBe(1);
});
