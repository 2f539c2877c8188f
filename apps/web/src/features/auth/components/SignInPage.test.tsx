import { routes } from '@simorgh/contracts';
import { screen, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { getToken } from '../../../api/auth-store';
import { installFakeApi } from '../../../test/fake-api';
import { makeChat, TEST_USER } from '../../../test/factories';
import { renderApp } from '../../../test/render-app';
import { errorResponse } from '../../../test/route-handlers';

describe('sign-in', () => {
  it('signs in with username and password, keeps the token for the session and opens the app', async () => {
    const api = installFakeApi();
    api.on(routes.login, () => ({
      status: 200,
      body: { access_token: 'jwt-abc', token_type: 'bearer', expires_in: 28800, user: TEST_USER },
    }));
    const { user, path } = renderApp('/', { signedIn: false });

    expect(path()).toBe('/login');
    await user.type(screen.getByLabelText('Username'), 'e.rostami');
    await user.type(screen.getByLabelText('Password'), 'simorgh-demo');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));

    expect(await screen.findByRole('button', { name: 'New chat' })).toBeInTheDocument();
    expect(path()).toBe('/');
    expect(api.calls('POST', '/api/auth/login')[0]?.body).toEqual({ username: 'e.rostami', password: 'simorgh-demo' });
    expect(getToken()).toBe('jwt-abc');
    expect(sessionStorage.getItem('simorgh.auth')).toContain('jwt-abc');
    expect(screen.getByText(TEST_USER.display_name)).toBeInTheDocument();
  });

  it("shows the API's message for wrong credentials and stays on the sign-in page", async () => {
    const api = installFakeApi();
    api.on(routes.login, () => errorResponse(401, 'unauthorized', 'Invalid username or password'));
    const { user, path } = renderApp('/login', { signedIn: false });

    await user.type(screen.getByLabelText('Username'), 'e.rostami');
    await user.type(screen.getByLabelText('Password'), 'wrong{Enter}');

    expect(await screen.findByRole('alert')).toHaveTextContent('Invalid username or password');
    expect(path()).toBe('/login');
    expect(getToken()).toBeNull();
    expect(screen.getByRole('button', { name: 'Sign in' })).toBeEnabled();
  });

  it('returns to sign-in with an explanation when the API answers 401, and back to the chat after signing in', async () => {
    const chat = makeChat();
    const api = installFakeApi({ chats: [chat] });
    api.on(routes.listMessages, () => errorResponse(401, 'unauthorized', 'Token expired'));
    api.on(routes.login, () => ({
      status: 200,
      body: { access_token: 'fresh', token_type: 'bearer', expires_in: 100, user: TEST_USER },
    }));
    const { user, path } = renderApp(`/c/${chat.chat_id}`);

    expect(await screen.findByRole('status')).toHaveTextContent(/session has ended.*sign in again/i);
    expect(path()).toBe('/login');
    expect(getToken()).toBeNull();

    await user.type(screen.getByLabelText('Username'), 'e.rostami');
    await user.type(screen.getByLabelText('Password'), 'simorgh-demo{Enter}');
    await waitFor(() => expect(path()).toBe(`/c/${chat.chat_id}`));
  });

  it('signs out from the sidebar, revoking the token on the server and clearing it here', async () => {
    const api = installFakeApi();
    const { user, path } = renderApp('/');
    await user.click(await screen.findByRole('button', { name: 'Sign out' }));
    expect(path()).toBe('/login');
    expect(getToken()).toBeNull();
    expect(sessionStorage.getItem('simorgh.auth')).toBeNull();
    await waitFor(() => expect(api.calls('POST', '/api/auth/logout')).toHaveLength(1));
    expect(api.calls('POST', '/api/auth/logout')[0]?.headers.get('authorization')).toBe('Bearer test-token');
  });

  it.each([
    ['the server fails', () => errorResponse(500, 'internal', 'Something went wrong')],
    ['the token was already refused', () => errorResponse(401, 'unauthorized', 'Token expired')],
    ['the network is down', () => Response.error()],
  ])('signs out locally, without a notice, when %s', async (_, reply) => {
    const api = installFakeApi();
    api.on(routes.logout, reply);
    const { user, path } = renderApp('/');
    await user.click(await screen.findByRole('button', { name: 'Sign out' }));
    await waitFor(() => expect(api.calls('POST', '/api/auth/logout')).toHaveLength(1));
    expect(path()).toBe('/login');
    expect(getToken()).toBeNull();
    expect(screen.getByRole('button', { name: 'Sign in' })).toBeInTheDocument();
    // Give the failed request's answer time to arrive before checking it changed nothing.
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(screen.queryByRole('status')).toBeNull();
  });
});
