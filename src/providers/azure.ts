/**
 * Azure OpenAI (docs/providers.md §10.2): `api-key` header, the mapped model is the deployment
 * (`/openai/deployments/<model>/chat/completions?api-version=…`); an empty identity-less first chunk and delta-less
 * annotation chunks in streams; `stream_options` only on recent api-versions. URL building lives in
 * upstream/endpoints.ts.
 */
import { openai, REASONING_MODEL_OVERRIDES } from './openai.js';
import type { ProviderProfile } from './profile.js';

export const azure: ProviderProfile = {
  ...openai,
  name: 'azure',
  displayName: 'Azure OpenAI',
  defaultBaseUrl: undefined,
  defaultModelMapping: {},
  defaultModel: undefined,
  auth: 'azure-api-key',
  apiKey: 'required',
  modelOverrides: [
    ['o[0-9]*', { ...REASONING_MODEL_OVERRIDES, systemRole: 'developer' }],
    ['gpt-5*', REASONING_MODEL_OVERRIDES],
  ],
  hostPatterns: [/\.openai\.azure\.com$/, /\.cognitiveservices\.azure\.com$/, /\.services\.ai\.azure\.com$/],
};
