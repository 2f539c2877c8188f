import type { RouteHandlers } from '../../http/route-handlers.js';
import type { LlmService } from './llm.service.js';

/** Shows the model server's host, never the key. */
export function createLlmHandlers(llm: LlmService): RouteHandlers<'llmDiagnostics'> {
  return {
    llmDiagnostics: async () => ({ status: 200, body: await llm.diagnostics() }),
  };
}
