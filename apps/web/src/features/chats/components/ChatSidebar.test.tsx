import { routes } from '@simorgh/contracts';
import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { installFakeApi } from '../../../test/fake-api';
import { makeChat } from '../../../test/factories';
import { renderApp } from '../../../test/render-app';
import { deferred, errorResponse, type RouteReply } from '../../../test/route-handlers';

const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString();

function sidebar() {
  return within(screen.getByRole('navigation', { name: 'Chats' }));
}

describe('new chat', () => {
  it('shows "New conversation" at once, before the server answers, then opens the created chat with focus in the message box', async () => {
    const api = installFakeApi();
    const reply = deferred<RouteReply<typeof routes.createChat>>();
    const created = makeChat({ chat_id: 'G-202611-000042', chat_name: 'New conversation' });
    api.on(routes.createChat, () => reply.promise);
    api.on(routes.listMessages, () => errorResponse(500, 'internal', 'must not be fetched: the new chat is empty'));
    const { user, path } = renderApp('/');
    await screen.findByText('No chats yet.');

    await user.click(sidebar().getByRole('button', { name: 'New chat' }));
    // A short timeout: the entry must appear while the POST is still unanswered, not after.
    const pending = await sidebar().findByText('New conversation', {}, { timeout: 50 });
    expect(pending.closest('li')).toHaveAttribute('aria-busy', 'true');
    expect(api.calls('POST', '/api/chats')[0]?.body).toEqual({ chat_type: 'general' });

    reply.resolve({ status: 201, body: { status: 'success', chat: created, message: 'Chat created' } });
    await waitFor(() => expect(path()).toBe('/c/G-202611-000042'));
    expect(sidebar().getByRole('link', { name: 'New conversation' })).toHaveAttribute('aria-current', 'page');
    expect(sidebar().getAllByText('New conversation')).toHaveLength(1);
    // The chat view focuses the message box in an effect once it has rendered the new chat.
    await waitFor(() => expect(screen.getByRole('textbox', { name: 'Message' })).toHaveFocus());
    expect(screen.getByText('G-202611-000042')).toBeInTheDocument();
  });

  it('removes the optimistic entry and explains why when creation fails', async () => {
    const api = installFakeApi({ chats: [makeChat({ chat_name: 'Existing chat' })] });
    const reply = deferred<RouteReply<typeof routes.createChat>>();
    api.on(routes.createChat, () => reply.promise);
    const { user, path } = renderApp('/');
    await sidebar().findByRole('link', { name: 'Existing chat' });

    await user.click(sidebar().getByRole('button', { name: 'New chat' }));
    expect(await sidebar().findByText('New conversation')).toBeInTheDocument();
    reply.resolve(errorResponse(503, 'upstream_unavailable', 'Chat storage is unavailable, try again shortly'));

    expect(await screen.findByRole('alert')).toHaveTextContent(
      "Couldn't start a new chat: Chat storage is unavailable, try again shortly",
    );
    expect(sidebar().queryByText('New conversation')).not.toBeInTheDocument();
    expect(sidebar().getByRole('link', { name: 'Existing chat' })).toBeInTheDocument();
    expect(path()).toBe('/');
  });

  it('starts a new chat with Ctrl+Shift+O and names the shortcut on the button', async () => {
    const api = installFakeApi();
    const { user, path } = renderApp('/');
    expect(await sidebar().findByRole('button', { name: 'New chat' })).toHaveAttribute('title', 'New chat (Ctrl+Shift+O)');
    await user.keyboard('{Control>}{Shift>}O{/Shift}{/Control}');
    await waitFor(() => expect(path()).toMatch(/^\/c\/G-/));
    expect(api.calls('POST', '/api/chats')).toHaveLength(1);
  });
});

describe('chat list', () => {
  it('groups chats by date with pinned first, and shows project name and page for project chats', async () => {
    installFakeApi({
      chats: [
        makeChat({ chat_id: 'G-202611-000005', chat_name: 'Today chat', updated_at: new Date().toISOString() }),
        makeChat({
          chat_id: 'P-4711-000001',
          chat_name: 'Valve sizing',
          chat_type: 'project',
          project_number: '4711',
          project_name: 'Bandar Abbas Refinery',
          page_name: 'Valve sizing',
          updated_at: daysAgo(3),
        }),
        makeChat({ chat_id: 'G-202611-000002', chat_name: 'Old chat', updated_at: daysAgo(40) }),
        makeChat({ chat_id: 'G-202611-000001', chat_name: 'Pinned chat', pinned: true, updated_at: daysAgo(60) }),
      ],
    });
    renderApp('/');
    await sidebar().findByRole('link', { name: 'Today chat' });

    const headings = sidebar().getAllByRole('heading', { level: 3 }).map((h) => h.textContent);
    expect(headings).toEqual(['Pinned', 'Today', 'Previous 7 days', 'Older']);
    expect(sidebar().getByRole('link', { name: /Valve sizing/ })).toHaveTextContent('Bandar Abbas Refinery · Valve sizing');
  });

  it('loads the next page with the cursor', async () => {
    const api = installFakeApi();
    api.on(routes.listChats, ({ url }) =>
      url.searchParams.get('cursor') === 'page-2'
        ? { status: 200, body: { chats: [makeChat({ chat_id: 'G-202611-000001', chat_name: 'Second page chat' })], next_cursor: null } }
        : { status: 200, body: { chats: [makeChat({ chat_id: 'G-202611-000002', chat_name: 'First page chat' })], next_cursor: 'page-2' } },
    );
    const { user } = renderApp('/');
    await sidebar().findByRole('link', { name: 'First page chat' });

    await user.click(sidebar().getByRole('button', { name: 'Load more' }));
    expect(await sidebar().findByRole('link', { name: 'Second page chat' })).toBeInTheDocument();
    expect(sidebar().queryByRole('button', { name: 'Load more' })).not.toBeInTheDocument();
  });

  it('renames a chat inline', async () => {
    const api = installFakeApi({ chats: [makeChat({ chat_name: 'Pump curve questions' })] });
    const { user } = renderApp('/');
    await user.click(await sidebar().findByRole('button', { name: 'Options for Pump curve questions' }));
    await user.click(screen.getByRole('menuitem', { name: 'Rename' }));
    const field = sidebar().getByRole('textbox', { name: 'Chat name' });
    await user.clear(field);
    await user.type(field, 'Pump NPSH margins{Enter}');

    expect(await sidebar().findByRole('link', { name: 'Pump NPSH margins' })).toBeInTheDocument();
    expect(api.calls('PATCH')[0]?.body).toEqual({ chat_name: 'Pump NPSH margins' });
  });

  it('pins a chat into the Pinned group', async () => {
    const api = installFakeApi({ chats: [makeChat({ chat_name: 'Flange ratings' })] });
    const { user } = renderApp('/');
    await user.click(await sidebar().findByRole('button', { name: 'Options for Flange ratings' }));
    await user.click(screen.getByRole('menuitem', { name: 'Pin' }));

    expect(await sidebar().findByRole('heading', { name: 'Pinned' })).toBeInTheDocument();
    expect(api.calls('PATCH')[0]?.body).toEqual({ pinned: true });
  });

  it('archives a chat out of the list and keeps it reachable under Archived', async () => {
    const api = installFakeApi({ chats: [makeChat({ chat_name: 'Old piping notes' })] });
    const { user } = renderApp('/');
    await user.click(await sidebar().findByRole('button', { name: 'Options for Old piping notes' }));
    await user.click(screen.getByRole('menuitem', { name: 'Archive' }));

    await waitFor(() => expect(sidebar().queryByRole('link', { name: 'Old piping notes' })).not.toBeInTheDocument());
    expect(api.calls('PATCH')[0]?.body).toEqual({ status: 'archived' });

    await user.click(sidebar().getByRole('button', { name: 'Archived' }));
    expect(await sidebar().findByRole('heading', { name: 'Archived chats' })).toBeInTheDocument();
    await user.click(await sidebar().findByRole('button', { name: 'Options for Old piping notes' }));
    expect(screen.getByRole('menuitem', { name: 'Unarchive' })).toBeInTheDocument();
  });

  it('deletes only after confirmation, and Cancel keeps the chat', async () => {
    const chat = makeChat({ chat_name: 'Scratch' });
    const api = installFakeApi({ chats: [chat] });
    const { user, path } = renderApp(`/c/${chat.chat_id}`);
    const options = await sidebar().findByRole('button', { name: 'Options for Scratch' });

    await user.click(options);
    await user.click(screen.getByRole('menuitem', { name: 'Delete' }));
    let dialog = screen.getByRole('alertdialog', { name: 'Delete chat?' });
    await user.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByRole('alertdialog')).not.toBeInTheDocument();
    expect(options).toHaveFocus();
    expect(api.calls('DELETE')).toHaveLength(0);

    await user.click(options);
    await user.click(screen.getByRole('menuitem', { name: 'Delete' }));
    dialog = screen.getByRole('alertdialog', { name: 'Delete chat?' });
    await user.click(within(dialog).getByRole('button', { name: 'Delete' }));

    await waitFor(() => expect(sidebar().queryByRole('link', { name: 'Scratch' })).not.toBeInTheDocument());
    expect(api.calls('DELETE', `/api/chats/${chat.chat_id}`)).toHaveLength(1);
    // The page leaves the chat once the delete is confirmed, a moment after the list drops it.
    await waitFor(() => expect(path()).toBe('/'));
  });
});
