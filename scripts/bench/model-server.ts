/**
 * The local OpenAI-compatible server for `pnpm bench`, as its own process: sharing an event
 * loop with the bench's client would delay the client's reads of the API's stream by the
 * model server's own work, and charge that to the API.
 */
import { startFakeLlm } from '@simorgh/devstack/fake-llm';

// bench.ts checks BENCH_TOKEN_DELAY_MS before this process starts.
const llm = await startFakeLlm({ tokenDelayMs: Number(process.env.BENCH_TOKEN_DELAY_MS ?? 5), model: 'bench-model', port: Number(process.env.PORT) });
process.on('SIGTERM', () => void llm.stop().finally(() => process.exit(0)));
