import { ChatResponseSchema } from '@simorgh/contracts';
import { describe, expect, it } from 'vitest';
import { errorResponse, installFetchMock, jsonResponse } from '../test/fetch-mock';
import { makeChat } from '../test/factories';
import { getAuthSnapshot, signIn } from './auth-store';
import { ApiError, apiRequest } from './client';

describe('apiRequest', () => {
  it('sends the bearer token and returns the body parsed by the contract', async () => {
    signIn('tok-2', { user_id: 'u', display_name: 'U' });
    const mock = installFetchMock();
    const chat = makeChat();
    mock.on('GET', '/api/chats/:id', () => jsonResponse(ChatResponseSchema, { chat }));
    await expect(apiRequest(`/api/chats/${chat.chat_id}`, { schema: ChatResponseSchema })).resolves.toEqual({ chat });
    expect(mock.calls('GET')[0]?.headers.get('Authorization')).toBe('Bearer tok-2');
  });

  it('throws ApiError with status, code and detail from the one error body', async () => {
    signIn('tok', { user_id: 'u', display_name: 'U' });
    const mock = installFetchMock();
    mock.on('GET', '/api/projects/:n', () => errorResponse(403, 'forbidden', 'Access denied for project 42'));
    const error = await apiRequest('/api/projects/42', { schema: ChatResponseSchema }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 403, code: 'forbidden', detail: 'Access denied for project 42' });
  });

  it('rejects a response that does not match the contract', async () => {
    const mock = installFetchMock();
    mock.on('GET', '/api/chats/x', () => new Response(JSON.stringify({ chat: { chat_id: 1 } }), { status: 200 }));
    await expect(apiRequest('/api/chats/x', { schema: ChatResponseSchema })).rejects.toMatchObject({ code: 'internal' });
  });

  it('signs the user out with an explanation on a 401', async () => {
    signIn('expired', { user_id: 'u', display_name: 'U' });
    const mock = installFetchMock();
    mock.on('GET', '/api/chats/x', () => errorResponse(401, 'unauthorized', 'Token expired'));
    await expect(apiRequest('/api/chats/x', { schema: ChatResponseSchema })).rejects.toMatchObject({ status: 401 });
    expect(getAuthSnapshot().auth).toBeNull();
    expect(getAuthSnapshot().notice).toMatch(/sign in again/i);
    expect(sessionStorage.length).toBe(0);
  });

  it('reports an unreachable server as a retryable ApiError, and a proxy error page by status', async () => {
    const mock = installFetchMock();
    mock.on('GET', '/api/down', () => Promise.reject(new TypeError('Failed to fetch')));
    mock.on('GET', '/api/gateway', () => new Response('<html>502 Bad Gateway</html>', { status: 502 }));
    await expect(apiRequest('/api/down', { schema: ChatResponseSchema })).rejects.toMatchObject({ status: 0, code: 'upstream_unavailable' });
    await expect(apiRequest('/api/gateway', { schema: ChatResponseSchema })).rejects.toMatchObject({ status: 502, code: 'upstream_unavailable' });
  });
});
