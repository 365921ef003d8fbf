import { scrubAmbientEnv } from './ambient-env.js';

// vitest setupFiles entry: runs in every test worker before its test file, so the code under test and every child
// process a test spawns with the inherited environment see none of the shell's RETRACE_*/OPENAI_*/ANTHROPIC_*/AWS_*
scrubAmbientEnv();
