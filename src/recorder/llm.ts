import { obj, str } from '../providers/json.js';
import { providerFor, type LlmEndpoint, type LlmOutcome, type StreamParser } from '../providers/index.js';

/**
 * What the recorder reads out of provider responses (model, usage with input including cached tokens everywhere,
 * finish reason, the provider's error): each provider's own parsing, in src/providers/.
 */
export type { LlmOutcome } from '../providers/index.js';

/** From a parsed, non-streamed response body. */
export function outcomeFromJson(endpoint: LlmEndpoint, body: unknown): LlmOutcome {
  return providerFor(endpoint).outcomeFromJson(endpoint, body);
}

/** Folds stream events (SSE, or decoded AWS event-stream messages) into an outcome as they arrive. */
export class StreamOutcome {
  private readonly parser: StreamParser;

  constructor(endpoint: LlmEndpoint) {
    this.parser = providerFor(endpoint).streamParser(endpoint);
  }

  onEvent(eventName: string | undefined, data: string): void {
    if (data === '' || data === '[DONE]') return;
    this.parser.onEvent(eventName, data);
  }

  result(): LlmOutcome {
    return this.parser.result();
  }
}

/** The model a request asks for: the body's `model`, or the one the path names (Gemini, Bedrock, Azure deployments). */
export function requestModel(body: unknown, endpoint?: LlmEndpoint): string {
  if (endpoint) return providerFor(endpoint).requestModel(endpoint, body);
  return str(obj(body)?.model) ?? '';
}

/** Whether the request asks for a stream (`"stream": true`, `:streamGenerateContent`, `converse-stream`). */
export function requestWantsStream(body: unknown, endpoint?: LlmEndpoint, url?: string): boolean {
  if (endpoint) {
    let u: URL;
    try {
      u = new URL(url ?? 'http://invalid.local/');
    } catch {
      u = new URL('http://invalid.local/');
    }
    return providerFor(endpoint).wantsStream(endpoint, u, body);
  }
  return obj(body)?.stream === true;
}
