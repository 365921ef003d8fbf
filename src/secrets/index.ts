export {
  REDACTED,
  SECRET_SHAPES,
  SECRET_HEADER_NAMES,
  findShapes,
  classifyName,
  looksRandom,
  isSecretHeader,
  isSecretNamedValue,
  isSecretQueryName,
  isSecretEnvName,
  type SecretShape,
  type ShapeMatch,
} from './shapes.js';
export {
  redactString,
  redactUrl,
  redactHeaders,
  redactValue,
  redactBodyText,
  redactEnvValue,
  replaceKnown,
  CIRCULAR,
} from './redact.js';
export { scanValue, maskSecret, type SecretFinding } from './scan.js';
