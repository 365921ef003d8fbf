import { openai, openaiBodyFits, openaiOperation } from '../openai/index.js';
import { trimmedPath } from '../json.js';
import type { LlmEndpoint, LlmProvider, MatchInput } from '../types.js';

/**
 * Azure OpenAI deployments: `…/openai/deployments/{deployment}/chat/completions?api-version=…` under any host (the
 * resource's own, or an API-management gateway in front of it). The deployment names the model the key is about (the
 * body usually has none); the answer is OpenAI's shape. Azure's v1 API (`/openai/v1/…`, model in the body) is the
 * plain OpenAI family, named azure-openai from the host.
 */
const DEPLOYMENT = /\/openai\/deployments\/([^/]+)(\/.*)$/;

function deploymentOf(url: URL): { deployment: string; rest: string } | undefined {
  const m = DEPLOYMENT.exec(trimmedPath(url));
  if (!m?.[1] || !m[2]) return undefined;
  let deployment = m[1];
  try {
    deployment = decodeURIComponent(deployment);
  } catch {
    // keep the raw segment
  }
  return { deployment, rest: m[2] };
}

function endpointOf(url: URL): LlmEndpoint | undefined {
  const d = deploymentOf(url);
  if (!d) return undefined;
  const operation = openaiOperation(d.rest);
  return operation ? { provider: 'azure-openai', operation, api: 'openai', pathModel: d.deployment } : undefined;
}

export const azureOpenai: LlmProvider = {
  ...openai,
  match({ method, url, body }: MatchInput): LlmEndpoint | undefined {
    if (method !== 'POST') return undefined;
    const endpoint = endpointOf(url);
    return endpoint && openaiBodyFits(endpoint.operation, body, false) ? endpoint : undefined;
  },
  matchPath(url, provider) {
    const endpoint = endpointOf(url);
    return endpoint ? { ...endpoint, provider } : undefined;
  },
  authHeaders: ['api-key', 'authorization'],
  placeholderEnv: { AZURE_OPENAI_API_KEY: 'retrace-replay-placeholder-azure-key' },
};
