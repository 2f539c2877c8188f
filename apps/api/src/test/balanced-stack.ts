import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeLlm, startNginx, type FakeLlm, type FakeLlmOptions, type NginxServer } from '@simorgh/devstack';
import { startApiProcess, type ApiProcess } from '@simorgh/devstack/api-process';
import { startTestStack, type StackOptions, type TestStack } from './harness.js';

export type BalancedStackOptions = Omit<StackOptions, 'llmBaseUrl'> & {
  /** The fake model server the API processes answer with. */
  model: FakeLlmOptions;
  /** Added to (or overriding) the processes' environment (TestStack.processEnv). */
  apiEnv?: Record<string, string | undefined>;
};

/** A test stack with two API processes of its own behind nginx; stop() also ends them, nginx and the model. */
export type BalancedStack = TestStack & {
  llm: FakeLlm;
  /** The two API processes, each with its log. */
  apis: [ApiProcess, ApiProcess];
  /** The repository's nginx.conf balancing between `apis`. */
  nginx: NginxServer;
};

/**
 * The fake model server, a test stack, and two API processes (separate node processes, as two
 * containers would be) on the stack's Redis, TPMS and PostgreSQL, behind nginx.
 */
export async function startBalancedStack({ model, apiEnv = {}, ...options }: BalancedStackOptions): Promise<BalancedStack> {
  const llm = await startFakeLlm(model);
  const logDir = mkdtempSync(join(tmpdir(), 'simorgh-apis-'));
  let stack: TestStack | undefined;
  const apis: ApiProcess[] = [];
  let nginx: NginxServer | undefined;
  const stop = async () => {
    await nginx?.stop();
    await Promise.all(apis.map((api) => api.stop()));
    await stack?.stop();
    await llm.stop();
    rmSync(logDir, { recursive: true, force: true });
  };
  try {
    stack = await startTestStack(options);
    const env = stack.processEnv({ OPENAI_BASE_URL: llm.url, OPENAI_MODEL: 'fake-model', ...apiEnv });
    const started = await Promise.allSettled([0, 1].map((index) => startApiProcess({ env, logFile: join(logDir, `api-${index}.log`) })));
    for (const result of started) if (result.status === 'fulfilled') apis.push(result.value);
    const failed = started.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
    nginx = await startNginx({ upstreamPorts: apis.map((api) => api.port) });
    return { ...stack, llm, apis: apis as [ApiProcess, ApiProcess], nginx, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
