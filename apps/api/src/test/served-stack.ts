import { startFakeLlm, type FakeLlm, type FakeLlmOptions } from '@simorgh/devstack/fake-llm';
import { listen, postStream, type StreamOptions, type StreamReply } from './event-stream-client.js';
import { startTestStack, type StackOptions, type TestStack } from './harness.js';

export type ServedStackOptions = Omit<StackOptions, 'llmBaseUrl'> & {
  /** Starts the fake model server with these options; the app's OPENAI_BASE_URL points at it. */
  model?: FakeLlmOptions;
};

/** A test stack whose app listens on a free loopback port; stop() also closes the port (and stops the model). */
export type ServedStack = TestStack & {
  /** Base URL of the listening app (`http://127.0.0.1:<port>`). */
  url: string;
  /**
   * POSTs a message as `userId` and reads the reply stream to its end, through the listening app
   * or `options.url` (another app's base URL).
   */
  sendMessage: (userId: string, chatId: string, content: string, options?: StreamOptions & { url?: string }) => Promise<StreamReply>;
};

/** A served stack started with `model`: the fake model server its app answers with. */
export type ServedStackWithModel = ServedStack & { llm: FakeLlm };

/**
 * A test stack (startTestStack) listening on a free port, with the fake model server when
 * `model` is given: reply streams need a real socket.
 */
export async function startServedStack(options: ServedStackOptions & { model: FakeLlmOptions }): Promise<ServedStackWithModel>;
export async function startServedStack(options?: ServedStackOptions): Promise<ServedStack>;
export async function startServedStack({ model, ...options }: ServedStackOptions = {}): Promise<ServedStack & { llm?: FakeLlm }> {
  const llm = model ? await startFakeLlm(model) : undefined;
  let stack: TestStack | undefined;
  try {
    stack = await startTestStack({ ...options, ...(llm ? { llmBaseUrl: llm.url } : {}) });
    const server = await listen(stack.app);
    const started = stack;
    return {
      ...started,
      ...(llm ? { llm } : {}),
      url: server.url,
      sendMessage: async (userId, chatId, content, { url = server.url, ...streamOptions } = {}) =>
        postStream(`${url}/api/chats/${chatId}/messages`, await started.tokenFor(userId), { content }, streamOptions),
      stop: async () => {
        await server.close();
        await started.stop();
        await llm?.stop();
      },
    };
  } catch (error) {
    await stack?.stop();
    await llm?.stop();
    throw error;
  }
}
