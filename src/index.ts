/** agent-retrace: a flight recorder and time-travel debugger for AI agents. */
export * from './errors.js';
export * from './events/index.js';
export * from './hashing/index.js';
export * from './store/index.js';
export * from './diff/index.js';
export * from './recorder/index.js';
export * from './replay/index.js';
