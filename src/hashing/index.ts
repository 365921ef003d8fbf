export { canonicalJson, sha256Hex, hashCanonical } from './canonical-json.js';
export { eventHash } from './chain.js';
