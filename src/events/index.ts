export * from './payloads.js';
export * from './envelope.js';
export * from './ids.js';
export {
  advanceLifecycle,
  initialLifecycle,
  lifecycleStatus,
  traceLifecycleMachine,
  type LifecycleSnapshot,
} from './lifecycle.js';
export { parseNewEvent, safeParseStoredEvent } from './validate.js';
export { eventJsonSchema } from './json-schema.js';
