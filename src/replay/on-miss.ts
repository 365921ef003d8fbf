import * as z from 'zod';

/**
 * What a replay does with a request the recording has no answer for: `error` stops there and names it, `nearest`
 * serves the recorded step at the same position and flags the drift, `live` lets it through to the real network.
 * The one list: the replay options, both commands' flags and the sandbox protocol all validate against it.
 */
export const ON_MISS_POLICIES = ['error', 'nearest', 'live'] as const;
export type OnMissPolicy = (typeof ON_MISS_POLICIES)[number];
export const OnMissPolicySchema = z.enum(ON_MISS_POLICIES);
