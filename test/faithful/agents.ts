import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { createWriteStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';

/**
 * Agents for the faithful-replay tests, written the way users write them: settings from their input, clients built
 * in the agent, their own fetch() calls to tools, timers, AbortControllers and files next to themselves.
 */
export interface FaithfulInput {
  baseURL: string;
  apiKey: string;
  /** the test's tool server (random delays) */
  toolsURL?: string;
  /** where the files agent writes, relative to the working directory */
  outDir?: string;
}

const client = (i: FaithfulInput) => new OpenAI({ baseURL: i.baseURL, apiKey: i.apiKey, maxRetries: 0 });

/** four tool calls over HTTP at once; the server answers after a random delay, so they finish out of order */
export async function parallelAgent(input: FaithfulInput) {
  const finishedOrder: number[] = [];
  const slots: unknown[] = [];
  await Promise.all(
    [0, 1, 2, 3].map(async (n) => {
      const res = await fetch(`${input.toolsURL}/tool/${n}`);
      const body = (await res.json()) as unknown;
      finishedOrder.push(n);
      slots[finishedOrder.length - 1] = body;
    }),
  );
  const answer = await client(input).chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: `finished ${finishedOrder.join(',')} slots ${JSON.stringify(slots)}` }],
  });
  return { finishedOrder, answer: answer.choices[0]?.message.content };
}

/** the same calls, awaited one by one in a different order (a mutation: the replay must diverge at the first call) */
export async function parallelAgentReordered(input: FaithfulInput) {
  const finishedOrder: number[] = [];
  for (const n of [1, 0, 2, 3]) {
    await (await fetch(`${input.toolsURL}/tool/${n}`)).json();
    finishedOrder.push(n);
  }
  return { finishedOrder };
}

/** a stream aborted by the agent after two chunks (raw fetch, AbortController), then the same question non-streamed */
export async function abortAgent(input: FaithfulInput) {
  const controller = new AbortController();
  const res = await fetch(`${input.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${input.apiKey}` },
    body: JSON.stringify({
      model: 'gpt-4o-mini',
      stream: true,
      messages: [{ role: 'user', content: 'tell a long story' }],
    }),
    signal: controller.signal,
  });
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  let chunks = 0;
  let branch = 'completed';
  try {
    for (;;) {
      const { done } = await reader.read();
      if (done) break;
      if (++chunks === 2) controller.abort();
    }
  } catch (e) {
    branch = (e as Error).name === 'AbortError' ? 'aborted' : `other ${(e as Error).name}`;
  }
  const retry = await client(input).chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: `tell a long story (retry after ${branch} at ${chunks})` }],
  });
  return { branch, chunks, retry: retry.choices[0]?.message.content };
}

/** the server cuts the stream after three events; the agent notes the error class and asks again non-streamed */
export async function cutAgent(input: FaithfulInput) {
  const llm = client(input);
  let seen = 0;
  let caught = 'none';
  try {
    const stream = await llm.chat.completions.create({
      model: 'gpt-4o-mini',
      stream: true,
      messages: [{ role: 'user', content: 'stream this [[cut:3]]' }],
    });
    for await (const _ of stream) seen++;
  } catch (e) {
    caught = `${(e as Error).constructor.name}/${(e as Error).name}`;
  }
  const again = await llm.chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: `again after ${caught} at ${seen}` }],
  });
  return { seen, caught, again: again.choices[0]?.message.content };
}

/** a heartbeat interval ticking through 250–550 ms LLM waits, sleeps between steps, Date.now deltas in the prompt */
export async function heartbeatAgent(input: FaithfulInput) {
  const llm = client(input);
  const beats: number[] = [];
  let step = 0;
  const heartbeat = setInterval(() => beats.push(step), 200);
  const deltas: number[] = [];
  let last = Date.now();
  try {
    for (step = 1; step <= 2; step++) {
      // with the 150 ms sleep, step 1 lasts ~500 or ~700 ms and step 2 ~400 or ~600 ms, so every step ends ~100 ms
      // from a beat on either side: a recording on a loaded machine (beats late by tens of ms) still sees the beats the
      // clock says fell due — timer firings themselves are not recorded, the replay fires what the recorded clock says
      const delay = (step === 1 ? 350 : 250) + 200 * Math.floor(Math.random() * 2);
      await llm.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: `step ${step} after ${deltas.join('/')} ms [[delay:${delay}]]` }],
      });
      await new Promise((r) => setTimeout(r, 150));
      const now = Date.now();
      deltas.push(now - last);
      last = now;
    }
  } finally {
    clearInterval(heartbeat);
  }
  const perStep = [1, 2].map((s) => beats.filter((b) => b === s).length);
  return { perStep, deltas };
}

/**
 * A request deadline with AbortSignal.timeout: a 150 ms budget around an answer that takes 600 ms times out, then a
 * generous budget around a quick one succeeds; the agent branches on the error's name, as code does.
 */
export async function deadlineAgent(input: FaithfulInput) {
  const ask = (content: string, ms: number) =>
    fetch(`${input.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${input.apiKey}` },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }] }),
      signal: AbortSignal.timeout(ms),
    }).then((r) => r.json() as Promise<{ choices: Array<{ message: { content: string } }> }>);
  const outcome: string[] = [];
  for (const [content, ms] of [
    ['slow one [[delay:600]]', 150],
    ['quick one', 5000],
  ] as const) {
    try {
      const body = await ask(content, ms);
      outcome.push(`ok: ${body.choices[0]?.message.content.length ?? 0} chars`);
    } catch (e) {
      outcome.push((e as Error).name);
    }
  }
  return { outcome };
}

async function notesAndReport(input: FaithfulInput, reportLine: string) {
  const dir = input.outDir as string;
  await mkdir(join(dir, 'notes'), { recursive: true });
  const hadReport = existsSync(join(dir, 'report.md'));
  const answer = await client(input).chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'summarise the findings' }],
  });
  const text = answer.choices[0]?.message.content ?? '';
  await writeFile(join(dir, 'notes', 'notes.json'), JSON.stringify({ summary: text, hadReport }, null, 2));
  await appendFile(join(dir, 'notes', 'log.txt'), 'summarised\n');
  const notes = JSON.parse(await readFile(join(dir, 'notes', 'notes.json'), 'utf8')) as { summary: string };
  await new Promise<void>((resolve, reject) => {
    const out = createWriteStream(join(dir, 'report.md'));
    out.on('error', reject);
    out.on('finish', () => resolve());
    out.write(`# Report\n\n${reportLine}\n\n`);
    out.end(`${notes.summary}\n`);
  });
  const report = await readFile(join(dir, 'report.md'), 'utf8');
  return { hadReport, reportLength: report.length, log: await readFile(join(dir, 'notes', 'log.txt'), 'utf8') };
}

/** writes notes JSON and report.md under its folder and reads them back */
export function filesAgent(input: FaithfulInput) {
  return notesAndReport(input, 'All checks passed.');
}

/** the same agent with a changed report text (a mutation: the replay must diverge on report.md) */
export function filesAgentChangedReport(input: FaithfulInput) {
  return notesAndReport(input, 'Two checks failed.');
}

/** reads its settings from the environment (recorded reads: a replay serves them in the sandbox's env view) */
export async function envAgent(input: FaithfulInput) {
  const model = process.env.PRESTART_TEST_MODEL ?? 'unset';
  const tone = process.env.PRESTART_TEST_TONE ?? 'unset';
  const answer = await client(input).chat.completions.create({
    model,
    messages: [{ role: 'user', content: `be ${tone}; missing: ${process.env.PRESTART_TEST_ABSENT ?? 'none'}` }],
  });
  return { model, tone, answer: answer.choices[0]?.message.content };
}
