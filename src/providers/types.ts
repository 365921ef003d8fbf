/**
 * One interface for every LLM API retrace knows. The recorder, the request key, the replay cache, the sandbox and the
 * CLI ask the provider of a call through it instead of knowing providers themselves, so adding a provider is one
 * folder under src/providers/ plus its pricing entries (see docs/providers.md).
 */

/** The wire format family a request and its response follow: decides parsing and the request-key target. */
export type ApiFamily = 'openai' | 'anthropic' | 'gemini' | 'bedrock';

export interface LlmEndpoint {
  /** the provider named in events: 'openai', 'anthropic', 'azure-openai', 'gemini', 'bedrock', 'groq', … */
  provider: string;
  /** 'chat.completions' | 'responses' | 'embeddings' | 'completions' | 'messages' | 'generateContent' | 'converse' … */
  operation: string;
  /** the wire format (several providers share the OpenAI one) */
  api: ApiFamily;
  /** the model (or Azure deployment) when the URL path names it rather than the body */
  pathModel?: string;
}

export interface LlmUsage {
  /** all prompt tokens, cached ones included (so every provider's number means the same) */
  inputTokens: number;
  outputTokens: number;
  cachedTokens?: number;
  /** tokens written to the prompt cache (part of inputTokens) */
  cacheWriteTokens?: number;
  /** reasoning/thinking tokens, when the provider reports them (part of outputTokens) */
  reasoningTokens?: number;
  totalTokens?: number;
}

/** What the recorder reads out of a response: model, usage, finish reason, the provider's error message. */
export interface LlmOutcome {
  model?: string;
  usage?: LlmUsage;
  finishReason?: string;
  error?: { message: string; code?: string };
}

/** Folds a streamed response, event by event (SSE events, or decoded AWS event-stream messages), into an outcome. */
export interface StreamParser {
  /** `eventName`: the SSE `event:` line or the AWS `:event-type` header; `data`: the event's JSON text */
  onEvent(eventName: string | undefined, data: string): void;
  result(): LlmOutcome;
}

/** What recognition looks at: the method, the parsed URL, the request headers and the parsed JSON body. */
export interface MatchInput {
  method: string;
  url: URL;
  headers: Readonly<Record<string, string>>;
  /** parsed JSON body, or undefined when there is none or it is not JSON */
  body: unknown;
}

export interface LlmProvider {
  /** the wire format this implementation reads and writes */
  readonly api: ApiFamily;
  /** a request of this API, recognised by path suffix and body shape under any host and prefix */
  match(input: MatchInput): LlmEndpoint | undefined;
  /** the endpoint a request to a configured base URL has (the user said what it is; the body shape is not checked) */
  matchPath(url: URL, provider: string): LlmEndpoint | undefined;
  /** top-level request body fields that change between runs without changing the answer (never in the request key) */
  readonly volatileBodyFields: readonly string[];
  /** lower-case request header names that carry this provider's credentials */
  readonly authHeaders: readonly string[];
  /** query parameter names that carry credentials */
  readonly authQueryParams: readonly string[];
  /** the model a request asks for (body or path) */
  requestModel(endpoint: LlmEndpoint, body: unknown): string;
  /** whether the request asks for a streamed answer */
  wantsStream(endpoint: LlmEndpoint, url: URL, body: unknown): boolean;
  /** from a parsed, non-streamed response body */
  outcomeFromJson(endpoint: LlmEndpoint, body: unknown): LlmOutcome;
  streamParser(endpoint: LlmEndpoint): StreamParser;
  /**
   * Environment variables a replay sets to placeholders when the recording used this provider, so SDKs that refuse
   * to start without credentials construct (the replay never sends them anywhere).
   */
  readonly placeholderEnv: Readonly<Record<string, string>>;
}
