import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Messages and journal lines from the sandbox carry an HMAC under a per-launch key that only retrace's runtime holds
 * (it arrives in the job, before any agent code loads, and stays in a closure of sandbox/channel.ts). The agent runs in
 * the same process and can write to the IPC channel or the journal file, but cannot produce a valid seal, so it cannot
 * forge, reorder or replay the events the parent stores.
 */

export function newSealKey(): string {
  return randomBytes(32).toString('hex');
}

export function sealOf(key: string, n: number, body: unknown): string {
  return createHmac('sha256', key)
    .update(`${n}\n${JSON.stringify(body)}`)
    .digest('hex');
}

export function sealValid(key: string, n: number, body: unknown, mac: string): boolean {
  const expected = Buffer.from(sealOf(key, n, body), 'hex');
  const given = Buffer.from(mac, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
