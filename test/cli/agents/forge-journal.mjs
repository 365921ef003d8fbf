// A zero-code script that writes its own "events" into the sandbox's journal file.
import { appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const journal = join(tmpdir(), 'journal.ndjson');
const mode = process.argv[2] ?? 'forge';
if (mode === 'malformed') appendFileSync(journal, '{"type": "append", "events": [\n');
else
  appendFileSync(
    journal,
    `${JSON.stringify({ type: 'append', events: [{ type: 'agent_completed', payload: { output: { exitCode: 0 } } }] })}\n`,
  );
console.log('done');
