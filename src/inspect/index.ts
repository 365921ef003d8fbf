/** The inspector (`retrace ui`): a typed JSON API over any store, and the HTTP server that serves it with the UI. */
export { InspectApi, parseParams, type InspectApiOptions } from './api.js';
export {
  InspectorServer,
  startInspector,
  isLoopback,
  defaultUiDir,
  type InspectorServerOptions,
  type RequestContext,
  type RouteHandler,
} from './server.js';
export { ApiNotFoundError, ApiParamError, ApiUnauthorizedError, UiBindError } from './errors.js';
export * from './schemas.js';
export { wordDiff, type WordPart } from './words.js';
