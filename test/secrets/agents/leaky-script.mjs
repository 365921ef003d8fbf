// A zero-code agent that leaks: recorded with `retrace record -- node leaky-script.mjs '<json>' [fail]`. Its client is
// the real openai SDK, built at module load from OPENAI_BASE_URL / OPENAI_API_KEY; the corpus arrives in argv (JSON),
// and goes into prompts, headers, query strings, bodies (also 100 levels deep), stdout, and an error message.
import OpenAI from 'openai';

const client = new OpenAI({ baseURL: process.env.OPENAI_BASE_URL, maxRetries: 0 });
const corpus = JSON.parse(process.argv[2] ?? '{}');
const origin = new URL(process.env.OPENAI_BASE_URL ?? 'http://127.0.0.1:1').origin;

await client.chat.completions.create({
  model: 'gpt-4o-mini',
  messages: [
    { role: 'system', content: JSON.stringify(corpus.object) },
    { role: 'user', content: corpus.text },
  ],
});
const stream = await client.chat.completions.create({
  model: 'gpt-4o-mini',
  stream: true,
  messages: [{ role: 'user', content: `repeat after me: ${corpus.text}` }],
});
for await (const _ of stream) {
  // drain
}
// generic HTTP: credentials in the query, in headers, in a form body and in a deeply nested JSON body
await fetch(
  `${origin}/lookup?api_key=${corpus.stripe}&${corpus.queryWithCredentials}&q=${encodeURIComponent(corpus.text)}`,
  {
    headers: {
      authorization: `Bearer ${corpus.jwt}`,
      cookie: `session=${corpus.deployKey}`,
      'x-deploy-key': corpus.deployKey,
      'x-note': corpus.text,
    },
  },
).then((r) => r.text());
await fetch(`${origin}/oauth/token`, {
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: `grant_type=password&username=ann&password=${encodeURIComponent(corpus.password)}&client_secret=${corpus.deployKey}`,
}).then((r) => r.text());
await fetch(`${origin}/deep`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ payload: corpus.deep }),
}).then((r) => r.text());
console.log(`done; used ${corpus.text}`);
if (process.argv[3] === 'fail') throw new Error(`deploy rejected: ${corpus.text}`);
