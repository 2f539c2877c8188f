/**
 * The local OpenAI-compatible server for `pnpm bench`, as its own process: sharing an event
 * loop with the bench's client would delay the client's reads of the API's stream by the
 * model server's own work, and charge that to the API.
 */
import { startFakeLlm } from '../../apps/api/src/local-stack/fake-llm.js';

const llm = await startFakeLlm({ tokenDelayMs: 0, model: 'bench-model', port: Number(process.env.PORT) });
process.on('SIGTERM', () => void llm.stop().finally(() => process.exit(0)));
