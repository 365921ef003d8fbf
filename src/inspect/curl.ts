import type { StoredEvent } from '../events/envelope.js';

/** Shell-quotes one argument for a POSIX shell. */
function q(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Recorded credentials are "[REDACTED]": the copied command reads them from the environment instead. */
function headerValue(name: string, value: string): string {
  if (!value.includes('[REDACTED]')) return q(`${name}: ${value}`);
  const env = name === 'x-api-key' ? 'ANTHROPIC_API_KEY' : 'OPENAI_API_KEY';
  const replaced = value.replace('[REDACTED]', `'"$${env}"'`);
  return `'${name}: ${replaced}'`;
}

const SKIP = new Set(['content-length', 'host', 'connection', 'accept-encoding']);

/** The recorded request as a curl command (LLM and HTTP requests), or null for other events. */
export function asCurl(e: StoredEvent): string | null {
  if (e.type !== 'llm_request' && e.type !== 'http_request') return null;
  const p = e.payload;
  const parts = ['curl', '-X', p.method, q(p.url)];
  for (const [k, v] of Object.entries(p.headers)) if (!SKIP.has(k)) parts.push('-H', headerValue(k, v));
  if (e.type === 'llm_request' && e.payload.body !== undefined)
    parts.push('--data-raw', q(JSON.stringify(e.payload.body)));
  if (e.type === 'http_request' && e.payload.body !== undefined) {
    if (e.payload.bodyEncoding === 'base64')
      return `printf %s ${q(e.payload.body)} | base64 -d | ${parts.join(' ')} --data-binary @-`;
    parts.push('--data-raw', q(e.payload.body));
  }
  return parts.join(' ');
}
