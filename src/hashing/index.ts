export { canonicalJson, sha256Hex, hashCanonical } from './canonical-json.js';
export { eventHash, sealEvent, ChainVerifier, type ChainBreak, type ChainLink } from './chain.js';
export {
  normalizeRequest,
  parseBody,
  requestHash,
  OccurrenceCounter,
  DEFAULT_VOLATILE_BODY_FIELDS,
  type NormalizationOptions,
  type NormalizedRequest,
  type KeyedRequest,
  type ParsedBody,
} from './request-key.js';
export {
  detectLlmEndpoint,
  providerBaseUrlsFromEnv,
  type LlmEndpoint,
  type ProviderKind,
  type ProviderBaseUrl,
} from './providers.js';
export { toolArgsHash } from './tool-key.js';
