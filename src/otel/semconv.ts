/**
 * The attribute names retrace reads and writes, pinned to one release of the OpenTelemetry semantic conventions.
 *
 * The GenAI conventions are still "development" status upstream, and the JS package only ships them from its
 * unstable `incubating` entry point, whose own README asks users to copy the names they need rather than import them.
 * So the names live here, checked against `@opentelemetry/semantic-conventions` 1.45.0 (which documents GenAI
 * semconv v1.41.0). docs/opentelemetry.md has the mapping table.
 */
export const SEMCONV_VERSION = '1.41.0';
export const SEMCONV_SCHEMA_URL = `https://opentelemetry.io/schemas/${SEMCONV_VERSION}`;

export const GEN_AI = {
  operationName: 'gen_ai.operation.name',
  providerName: 'gen_ai.provider.name',
  /** the pre-1.37 name of gen_ai.provider.name, still sent by many instrumentations */
  system: 'gen_ai.system',
  agentName: 'gen_ai.agent.name',
  agentId: 'gen_ai.agent.id',
  conversationId: 'gen_ai.conversation.id',
  requestModel: 'gen_ai.request.model',
  requestTemperature: 'gen_ai.request.temperature',
  requestTopP: 'gen_ai.request.top_p',
  requestTopK: 'gen_ai.request.top_k',
  requestMaxTokens: 'gen_ai.request.max_tokens',
  requestFrequencyPenalty: 'gen_ai.request.frequency_penalty',
  requestPresencePenalty: 'gen_ai.request.presence_penalty',
  requestStopSequences: 'gen_ai.request.stop_sequences',
  requestSeed: 'gen_ai.request.seed',
  requestChoiceCount: 'gen_ai.request.choice.count',
  requestStream: 'gen_ai.request.stream',
  requestEncodingFormats: 'gen_ai.request.encoding_formats',
  responseModel: 'gen_ai.response.model',
  responseId: 'gen_ai.response.id',
  responseFinishReasons: 'gen_ai.response.finish_reasons',
  usageInputTokens: 'gen_ai.usage.input_tokens',
  usageOutputTokens: 'gen_ai.usage.output_tokens',
  usageCacheReadInputTokens: 'gen_ai.usage.cache_read.input_tokens',
  usageReasoningOutputTokens: 'gen_ai.usage.reasoning.output_tokens',
  /** pre-1.27 names */
  usagePromptTokens: 'gen_ai.usage.prompt_tokens',
  usageCompletionTokens: 'gen_ai.usage.completion_tokens',
  inputMessages: 'gen_ai.input.messages',
  outputMessages: 'gen_ai.output.messages',
  systemInstructions: 'gen_ai.system_instructions',
  toolDefinitions: 'gen_ai.tool.definitions',
  toolName: 'gen_ai.tool.name',
  toolCallId: 'gen_ai.tool.call.id',
  toolType: 'gen_ai.tool.type',
  toolCallArguments: 'gen_ai.tool.call.arguments',
  toolCallResult: 'gen_ai.tool.call.result',
  outputType: 'gen_ai.output.type',
} as const;

export const OPERATION = {
  chat: 'chat',
  textCompletion: 'text_completion',
  generateContent: 'generate_content',
  embeddings: 'embeddings',
  executeTool: 'execute_tool',
  invokeAgent: 'invoke_agent',
} as const;

/** General (stable) conventions used on HTTP client spans and errors. */
export const HTTP = {
  method: 'http.request.method',
  statusCode: 'http.response.status_code',
  url: 'url.full',
  serverAddress: 'server.address',
  serverPort: 'server.port',
  errorType: 'error.type',
} as const;

/** retrace's own attributes: they lead a span in another tool back to `retrace replay`. */
export const RETRACE = {
  traceId: 'retrace.trace_id',
  tenantId: 'retrace.tenant_id',
  seq: 'retrace.event.seq',
  endSeq: 'retrace.event.end_seq',
  eventType: 'retrace.event.type',
  agentEntry: 'retrace.agent.entry',
  replayOf: 'retrace.replay_of',
  costUsd: 'retrace.cost_usd',
  /** only with --include-content: the stored request/response payloads (already redacted), so an import can replay */
  requestPayload: 'retrace.request.payload',
  agentInput: 'retrace.agent.input',
  agentOutput: 'retrace.agent.output',
  responsePayload: 'retrace.response.payload',
} as const;

/** OpenInference (Arize Phoenix) names that the importer understands. */
export const OPENINFERENCE = {
  spanKind: 'openinference.span.kind',
  modelName: 'llm.model_name',
  provider: 'llm.provider',
  system: 'llm.system',
  tokenPrompt: 'llm.token_count.prompt',
  tokenCompletion: 'llm.token_count.completion',
  inputMessagesPrefix: 'llm.input_messages.',
  outputMessagesPrefix: 'llm.output_messages.',
  inputValue: 'input.value',
  outputValue: 'output.value',
  toolName: 'tool.name',
  invocationParameters: 'llm.invocation_parameters',
} as const;

/** Vercel AI SDK (`experimental_telemetry`) names that the importer understands. */
export const VERCEL_AI = {
  operationId: 'ai.operationId',
  modelId: 'ai.model.id',
  modelProvider: 'ai.model.provider',
  promptMessages: 'ai.prompt.messages',
  prompt: 'ai.prompt',
  responseText: 'ai.response.text',
  responseToolCalls: 'ai.response.toolCalls',
  responseFinishReason: 'ai.response.finishReason',
  responseModel: 'ai.response.model',
  usagePromptTokens: 'ai.usage.promptTokens',
  usageCompletionTokens: 'ai.usage.completionTokens',
  usageInputTokens: 'ai.usage.inputTokens',
  usageOutputTokens: 'ai.usage.outputTokens',
  toolCallName: 'ai.toolCall.name',
  toolCallId: 'ai.toolCall.id',
  toolCallArgs: 'ai.toolCall.args',
  toolCallResult: 'ai.toolCall.result',
  telemetryFunctionId: 'ai.telemetry.functionId',
} as const;
