import { routes } from '@simorgh/contracts';
import { HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';
import { makeChat } from '../test/factories';
import { errorResponse, onRoute, recordedRequests } from '../test/route-handlers';
import { getAuthSnapshot, signIn } from './auth-store';
import { ApiError, callRoute } from './client';

describe('callRoute', () => {
  it('sends the bearer token and returns the body parsed by the contract', async () => {
    signIn('tok-2', { user_id: 'u', display_name: 'U' });
    const chat = makeChat();
    onRoute(routes.getChat, () => ({ status: 200, body: { chat } }));
    await expect(callRoute(routes.getChat, { params: { id: chat.chat_id } })).resolves.toEqual({ chat });
    const [call] = recordedRequests('GET');
    expect(call?.path).toBe(`/api/chats/${chat.chat_id}`);
    expect(call?.headers.get('Authorization')).toBe('Bearer tok-2');
  });

  it('builds the URL from the route table: path parameters encoded, query appended, body as JSON', async () => {
    onRoute(routes.listChats, () => ({ status: 200, body: { chats: [], next_cursor: null } }));
    onRoute(routes.updateChat, ({ params }) => ({ status: 200, body: { chat: makeChat({ chat_id: params.id }) } }));
    await callRoute(routes.listChats, { query: { limit: 30, status: 'archived', cursor: 'a b' } });
    await callRoute(routes.updateChat, { params: { id: 'G-202611-000001' }, body: { pinned: true } });
    const [list, update] = recordedRequests();
    expect(list?.url.search).toBe('?limit=30&status=archived&cursor=a+b');
    expect(update).toMatchObject({ method: 'PATCH', path: '/api/chats/G-202611-000001', body: { pinned: true } });
    expect(update?.headers.get('Content-Type')).toBe('application/json');
  });

  it('throws ApiError with status, code and detail from the one error body', async () => {
    signIn('tok', { user_id: 'u', display_name: 'U' });
    onRoute(routes.getProject, () => errorResponse(403, 'forbidden', 'Access denied for project 42'));
    const error = await callRoute(routes.getProject, { params: { project_number: '42' } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 403, code: 'forbidden', detail: 'Access denied for project 42' });
  });

  it('rejects a response that does not match the contract', async () => {
    onRoute(routes.getChat, () => HttpResponse.json({ chat: { chat_id: 1 } }));
    await expect(callRoute(routes.getChat, { params: { id: 'x' } })).rejects.toMatchObject({ code: 'internal' });
  });

  it('signs the user out with an explanation on a 401', async () => {
    signIn('expired', { user_id: 'u', display_name: 'U' });
    onRoute(routes.getChat, () => errorResponse(401, 'unauthorized', 'Token expired'));
    await expect(callRoute(routes.getChat, { params: { id: 'x' } })).rejects.toMatchObject({ status: 401 });
    expect(getAuthSnapshot().auth).toBeNull();
    expect(getAuthSnapshot().notice).toMatch(/sign in again/i);
    expect(sessionStorage.length).toBe(0);
  });

  it('reports an unreachable server as a retryable ApiError, and a proxy error page by status', async () => {
    onRoute(routes.getChat, () => HttpResponse.error());
    onRoute(routes.listMessages, () => new HttpResponse('<html>502 Bad Gateway</html>', { status: 502 }));
    await expect(callRoute(routes.getChat, { params: { id: 'x' } })).rejects.toMatchObject({ status: 0, code: 'upstream_unavailable' });
    await expect(callRoute(routes.listMessages, { params: { id: 'x' }, query: {} })).rejects.toMatchObject({
      status: 502,
      code: 'upstream_unavailable',
    });
  });
});
