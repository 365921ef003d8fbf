import * as z from 'zod';
import { assertTenantId, DEFAULT_TENANT } from '../src/events/ids.js';
import { issuePath } from '../src/events/validate.js';
import { UsageError } from './errors.js';

/**
 * Option schemas: options are validated with zod. Commander parses the command line into strings and
 * booleans; these schemas turn them into typed values and produce the error a person reads, naming the flag.
 */

export const GlobalOptionsSchema = z.object({
  /** undefined: openStore's default (RETRACE_STORE, else sqlite:.retrace/retrace.db); commander already read the env */
  store: z.string().trim().min(1, 'must not be empty').optional(),
  tenant: z.string().default(DEFAULT_TENANT),
  json: z.boolean().default(false),
  debug: z.boolean().default(false),
});
export type GlobalOptions = z.output<typeof GlobalOptionsSchema>;

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/** "30m", "2h", "7d" → milliseconds */
export const DurationSchema = z
  .string()
  .trim()
  .regex(/^\d+(ms|s|m|h|d|w)$/, 'must be a duration such as 30m, 2h or 7d (units: ms, s, m, h, d, w)')
  .transform((raw) => {
    const [, amount = '0', unit = 'ms'] = /^(\d+)(ms|s|m|h|d|w)$/.exec(raw) ?? [];
    return Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS];
  })
  .pipe(z.number().positive('must be longer than zero'));

/** a whole number given as text on the command line */
export function wholeNumber(min: number, max: number) {
  return z
    .string()
    .trim()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));
}

function flagOf(path: readonly PropertyKey[]): string {
  const head = path[0];
  if (typeof head !== 'string') return 'an option';
  return `--${head.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/**
 * Validates a command's options (commander's `opts()`); the error names the flag and points at the command's help.
 * Keys the schema does not know (the global options) are ignored.
 */
export function parseOptions<S extends z.ZodType>(schema: S, raw: unknown, command: string): z.output<S> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const flag = issue ? flagOf(issue.path) : 'an option';
  const detail = issue
    ? `${issue.path.length > 1 ? `${issuePath(issue.path.slice(1))} ` : ''}${issue.message}`
    : 'is invalid';
  throw new UsageError(
    `Invalid value for ${flag}: ${detail}.`,
    `Run \`retrace ${command ? `${command} ` : ''}--help\` for the accepted values and examples.`,
    flag,
    { cause: result.error },
  );
}

export function parseGlobalOptions(raw: unknown): GlobalOptions {
  const globals = parseOptions(GlobalOptionsSchema, raw, '');
  // the library's own check, so the message matches what the store would say
  assertTenantId(globals.tenant);
  return globals;
}
