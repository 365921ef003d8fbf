import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as z from 'zod';
import { ValidationError } from '../errors.js';
import type { Usage } from '../events/payloads.js';

/**
 * The pricing table (USD per 1M tokens) behind llm_response.costUsd. The package ships pricing/models.json; a user file
 * (option `pricing`, or RETRACE_PRICING in zero-code mode) is merged on top, model by model. A model not in the table
 * costs `null`, never a guess.
 */
const price = z.number().nonnegative().finite();

export const ModelPriceSchema = z.object({
  provider: z.string().min(1).optional(),
  /** USD per 1M input tokens not served from cache */
  input: price,
  /** USD per 1M output tokens */
  output: price,
  /** USD per 1M input tokens served from the prompt cache (defaults to `input`) */
  cachedInput: price.optional(),
  /** USD per 1M tokens written to the prompt cache (Anthropic; defaults to `input`) */
  cacheWrite: price.optional(),
  /** other names the provider answers with for this model */
  aliases: z.array(z.string().min(1)).optional(),
});
export type ModelPrice = z.infer<typeof ModelPriceSchema>;

export const PricingFileSchema = z.object({
  version: z.literal(1).optional(),
  currency: z.literal('USD').optional(),
  unit: z.literal('per_1m_tokens').optional(),
  updated: z.string().optional(),
  source: z.string().optional(),
  /** per provider: where its prices come from and when they were last compared with it */
  providers: z.record(z.string(), z.object({ source: z.string(), checked: z.string() })).optional(),
  models: z.record(z.string().min(1), ModelPriceSchema),
});
export type PricingFile = z.infer<typeof PricingFileSchema>;

/** What `createRecorder({ pricing })` accepts: a table, a path to a JSON file, or false for no costs at all. */
export type PricingInput = PricingFile | Record<string, ModelPrice> | string | false;

export interface UsageForCost extends Usage {
  /** tokens written to the prompt cache (Anthropic cache_creation_input_tokens), part of inputTokens */
  cacheWriteTokens?: number;
}

export class PricingTable {
  private readonly byName = new Map<string, ModelPrice>();

  constructor(models: Record<string, ModelPrice>) {
    for (const [name, entry] of Object.entries(models)) {
      this.byName.set(name.toLowerCase(), entry);
      for (const alias of entry.aliases ?? []) this.byName.set(alias.toLowerCase(), entry);
    }
  }

  /** exact name, then without a date/version suffix (gpt-4o-2024-08-06, claude-sonnet-4-20250514, …-latest) */
  lookup(model: string): ModelPrice | undefined {
    let name = model.toLowerCase().trim();
    // provider-prefixed names from proxies and gateways: "openai/gpt-4o", "models/gemini-2.5-flash"
    const slash = name.lastIndexOf('/');
    if (slash >= 0) name = name.slice(slash + 1);
    const hit = this.byName.get(name);
    if (hit) return hit;
    // Bedrock ids: an optional cross-region inference prefix, the vendor, a version ("us.amazon.nova-lite-v1:0")
    const unversioned = name.replace(/-v\d+(:\d+)?$/, '');
    const unprefixed = unversioned.replace(/^(us|eu|apac|jp|au|ca|us-gov|global)\./, '');
    const candidates = [
      unversioned,
      unprefixed,
      unprefixed.replace(/^(anthropic|openai|amazon|meta|mistral|cohere|ai21|deepseek|qwen|writer)\./, ''),
    ];
    for (const c of candidates) {
      const stripped = c.replace(/-(\d{4}-\d{2}-\d{2}|\d{8}|latest|preview)$/, '');
      const found = this.byName.get(c) ?? this.byName.get(stripped);
      if (found) return found;
    }
    return undefined;
  }

  /** USD for one call, or null when the model has no price. */
  cost(model: string | undefined, usage: UsageForCost | undefined): number | null {
    if (model === undefined || model === '' || usage === undefined) return null;
    const p = this.lookup(model);
    if (!p) return null;
    const cached = Math.min(usage.cachedTokens ?? 0, usage.inputTokens);
    const written = Math.min(usage.cacheWriteTokens ?? 0, usage.inputTokens - cached);
    const fresh = usage.inputTokens - cached - written;
    const usd =
      (fresh * p.input +
        cached * (p.cachedInput ?? p.input) +
        written * (p.cacheWrite ?? p.input) +
        usage.outputTokens * p.output) /
      1_000_000;
    // 1e-9 USD resolution keeps float noise out of stored numbers
    return Math.round(usd * 1e9) / 1e9;
  }
}

function packageRoot(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'pricing', 'models.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return undefined;
}

export function parsePricingFile(raw: unknown, where: string): PricingFile {
  // accept a bare { model: price } map as well as the full file
  const candidate = raw !== null && typeof raw === 'object' && !('models' in raw) ? { models: raw } : raw;
  const result = PricingFileSchema.safeParse(candidate);
  if (!result.success) {
    const issue = result.error.issues[0];
    const path = issue ? issue.path.map(String).join('.') : '';
    throw new ValidationError(
      `The pricing table ${where} is not valid${path ? ` at ${path}` : ''}: ${issue?.message ?? 'invalid'}.`,
      'Each model needs numeric "input" and "output" prices in USD per 1M tokens (optional "cachedInput", "cacheWrite", "aliases"); see pricing/models.json.',
      'pricing',
      { cause: result.error },
    );
  }
  return result.data;
}

function readPricingFile(path: string): PricingFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ValidationError(
      `Cannot read the pricing file ${path}: ${(err as Error).message}.`,
      'Pass the path of a JSON file shaped like pricing/models.json.',
      'pricing',
      { cause: err },
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ValidationError(`The pricing file ${path} is not valid JSON.`, 'Fix the JSON syntax.', 'pricing', {
      cause: err,
    });
  }
  return parsePricingFile(raw, path);
}

let shipped: PricingFile | undefined;

/** The table shipped with the package (pricing/models.json). */
export function shippedPricing(): PricingFile {
  if (shipped) return shipped;
  const root = packageRoot();
  shipped = root ? readPricingFile(join(root, 'pricing', 'models.json')) : { models: {} };
  return shipped;
}

/** The shipped table with the user's table (object or file path) merged on top. */
export function loadPricing(extra?: PricingInput): PricingTable {
  if (extra === false) return new PricingTable({});
  const models: Record<string, ModelPrice> = { ...shippedPricing().models };
  if (extra !== undefined) {
    const user = typeof extra === 'string' ? readPricingFile(extra) : parsePricingFile(extra, '(option pricing)');
    Object.assign(models, user.models);
  }
  return new PricingTable(models);
}
