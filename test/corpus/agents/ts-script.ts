// A zero-code TypeScript agent script: run as `tsx agent.ts`, `npx tsx agent.ts`, `node --import tsx agent.ts` or
// `npm run agent`. Settings from its environment, an id and a timestamp of its own, a typed helper.
import { randomUUID } from 'node:crypto';
import OpenAI from 'openai';

interface Ticket {
  id: string;
  openedAt: number;
  question: string;
}

const client = new OpenAI({ baseURL: process.env.SUPPORT_LLM_URL, apiKey: process.env.SUPPORT_LLM_KEY });
const model: string = process.env.SUPPORT_MODEL ?? 'gpt-4o-mini';

async function answer(ticket: Ticket): Promise<string> {
  const r = await client.chat.completions.create({
    model,
    messages: [
      { role: 'system', content: `ticket ${ticket.id} opened at ${ticket.openedAt}` },
      { role: 'user', content: ticket.question },
    ],
  });
  return r.choices[0]?.message.content ?? '';
}

const ticket: Ticket = { id: randomUUID(), openedAt: Date.now(), question: process.argv[2] ?? 'Where is my parcel?' };
console.log(`${ticket.id}: ${await answer(ticket)}`);
