import type { Command } from 'commander';
import type { CommandContext } from '../context.js';

/** What commander hands an action, after the global options were validated into the context. */
export interface ActionInput {
  /** the command's positional arguments, as commander parsed them (validate before use) */
  args: readonly unknown[];
  /** the command's own options, as commander parsed them (validate with the command's zod schema) */
  options: Record<string, unknown>;
}

/** A command's body: returns the exit code rather than exiting, so only main.ts calls process.exit. */
export type Action = (ctx: CommandContext, input: ActionInput) => Promise<number>;

/** Turns an Action into a commander action handler (program.ts owns the context and the exit code). */
export type Bind = (action: Action) => (...params: unknown[]) => Promise<void>;

/** Each command file exports one of these: it adds its command (options, help, examples) to the program. */
export type RegisterCommand = (program: Command, bind: Bind) => void;
