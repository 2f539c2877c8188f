import { routes } from '@simorgh/contracts';
import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { installFakeApi } from '../../../test/fake-api';
import { makeChat, makeMessage, TEST_USER } from '../../../test/factories';
import { renderApp } from '../../../test/render-app';
import { errorResponse } from '../../../test/route-handlers';
import { sseResponse } from '../../../test/sse';

const PROJECT_CHAT = 'P-10234-000001';
const GENERAL_CHAT = 'G-202611-000001';
const PROJECT = { project_number: '10234', project_name: 'Bandar Abbas Refinery Expansion' };
const REZA = { user_id: 'r.hosseini', display_name: 'Reza Hosseini', projects: ['10234'] };
const ROYA = { user_id: 'r.amini', display_name: 'Roya Amini', projects: ['11348'] };
const SARA = { user_id: 's.karimi', display_name: 'Sara Karimi', projects: ['10234'] };

const projectChat = (overrides: Parameters<typeof makeChat>[0] = {}) =>
  makeChat({ chat_id: PROJECT_CHAT, chat_name: 'Flare header sizing', chat_type: 'project', page_name: 'Flare header', ...PROJECT, ...overrides });

const sidebar = () => within(screen.getByRole('navigation', { name: 'Chats' }));
const conversation = () => within(screen.getByRole('region', { name: 'Conversation' }));
const shareDialog = () => screen.getByRole('dialog', { name: 'Share chat' });
const peopleField = () => within(shareDialog()).getByRole('combobox', { name: 'Add people' });

async function openShareDialog(app: ReturnType<typeof renderApp>) {
  await app.user.click(await screen.findByRole('button', { name: 'Share' }));
  await screen.findByRole('dialog', { name: 'Share chat' });
  await waitFor(() => expect(peopleField()).toHaveFocus());
}

describe('the share dialog (owner)', () => {
  it('shares a project chat with its project and with people picked by name, saving each change as it is made', async () => {
    const api = installFakeApi({ chats: [projectChat()], people: [REZA, ROYA, SARA] });
    const app = renderApp(`/c/${PROJECT_CHAT}`);
    await openShareDialog(app);
    const dialog = within(shareDialog());
    expect(shareDialog()).toHaveAccessibleDescription('Only you can see this chat.');

    await app.user.click(dialog.getByRole('checkbox', { name: 'Everyone on Bandar Abbas Refinery Expansion' }));
    await waitFor(() => expect(api.calls('PATCH', `/api/chats/${PROJECT_CHAT}`).map((c) => c.body)).toEqual([{ visibility: 'project' }]));
    expect(shareDialog()).toHaveAccessibleDescription(/^You and everyone with access to Bandar Abbas Refinery Expansion in TPMS can open this chat/);
    expect(await dialog.findByRole('status')).toHaveTextContent('Saved');

    // Typing quickly asks once, for the whole prefix, and only for people on the project.
    await app.user.type(peopleField(), 'r');
    const option = await dialog.findByRole('option', { name: /Reza Hosseini/ });
    expect(dialog.queryByRole('option', { name: /Roya Amini/ })).not.toBeInTheDocument();
    const lookups = api.calls('GET', '/api/users');
    expect(lookups).toHaveLength(1);
    expect(Object.fromEntries(lookups[0]!.url.searchParams)).toEqual({ q: 'r', project_number: '10234' });
    expect(peopleField()).toHaveAttribute('aria-activedescendant', option.id);

    await app.user.keyboard('{Enter}');
    const chips = await dialog.findByRole('list', { name: 'People with access' });
    expect(within(chips).getByText('Reza Hosseini (r.hosseini)')).toBeInTheDocument();
    expect(peopleField()).toHaveValue('');
    await waitFor(() => expect(api.calls('PATCH').at(-1)?.body).toEqual({ allowed_users: ['r.hosseini'] }));
    expect(api.state.chats[0]).toMatchObject({ visibility: 'project', allowed_users: ['r.hosseini'] });
    expect(shareDialog()).toHaveAccessibleDescription(/^You, everyone with access to Bandar Abbas Refinery Expansion in TPMS and 1 person you added can open this chat/);

    // Someone already on the list is not offered again.
    await app.user.type(peopleField(), 're');
    await waitFor(() => expect(api.calls('GET', '/api/users').at(-1)?.url.searchParams.get('q')).toBe('re'));
    expect(await dialog.findByText('No one else on Bandar Abbas Refinery Expansion matches “re”.')).toBeInTheDocument();
    await app.user.clear(peopleField());

    await app.user.click(dialog.getByRole('button', { name: 'Remove Reza Hosseini (r.hosseini)' }));
    await waitFor(() => expect(api.calls('PATCH').at(-1)?.body).toEqual({ allowed_users: [] }));
    expect(dialog.queryByRole('list', { name: 'People with access' })).not.toBeInTheDocument();
    expect(peopleField()).toHaveFocus();

    // Esc closes it; focus goes back to the Share button; the header marks the chat as shared.
    await app.user.keyboard('{Escape}');
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Share' })).toHaveFocus();
    const header = screen.getByRole('heading', { level: 1, name: 'Flare header sizing' }).closest('header') as HTMLElement;
    expect(within(header).getByText('(Shared by you)')).toBeInTheDocument();
    expect(sidebar().getByRole('link', { name: /Flare header sizing/ })).toHaveTextContent('Shared');
  }, 15_000);

  it('names the people the chat was already shared with, or shows the ID of someone TPMS does not know', async () => {
    const api = installFakeApi({ chats: [projectChat({ allowed_users: ['r.hosseini', 'gone.user'] })], people: [REZA, ROYA, SARA] });
    const app = renderApp(`/c/${PROJECT_CHAT}`);
    await openShareDialog(app);
    const chips = within(within(shareDialog()).getByRole('list', { name: 'People with access' }));
    expect(await chips.findByText('Reza Hosseini (r.hosseini)')).toBeInTheDocument();
    expect(chips.getByText('gone.user')).toBeInTheDocument();
    expect(api.calls('GET', '/api/users/names').map((call) => call.url.searchParams.get('ids'))).toEqual(['gone.user,r.hosseini']);
  });

  it('picks people by mouse, and a general chat offers no project option and asks about everyone', async () => {
    const api = installFakeApi({ chats: [makeChat({ chat_id: GENERAL_CHAT })], people: [REZA, ROYA] });
    const app = renderApp(`/c/${GENERAL_CHAT}`);
    await openShareDialog(app);
    const dialog = within(shareDialog());
    expect(dialog.queryByRole('checkbox')).not.toBeInTheDocument();
    await app.user.type(peopleField(), 'Ro');
    await app.user.click(await dialog.findByRole('option', { name: /Roya Amini/ }));
    expect(await dialog.findByText('Roya Amini (r.amini)')).toBeInTheDocument();
    expect(Object.fromEntries(api.calls('GET', '/api/users')[0]!.url.searchParams)).toEqual({ q: 'Ro' });
    await waitFor(() => expect(api.calls('PATCH').at(-1)?.body).toEqual({ allowed_users: ['r.amini'] }));
    expect(shareDialog()).toHaveAccessibleDescription(
      'You and 1 person you added can open this chat, read it and write in it. Only you can rename, archive, delete or share it.',
    );
  });

  it('shows a refusal naming the user inline and takes the chip away again', async () => {
    const api = installFakeApi({ chats: [projectChat()], people: [SARA] });
    api.on(routes.updateChat, () => errorResponse(400, 'validation', 'User s.karimi has no access to project 10234'));
    const app = renderApp(`/c/${PROJECT_CHAT}`);
    await openShareDialog(app);
    const dialog = within(shareDialog());
    await app.user.type(peopleField(), 'sa');
    await dialog.findByRole('option', { name: /Sara Karimi/ });
    await app.user.keyboard('{Enter}');
    expect(await dialog.findByRole('alert')).toHaveTextContent('User s.karimi has no access to project 10234');
    expect(dialog.queryByRole('list', { name: 'People with access' })).not.toBeInTheDocument();
    expect(shareDialog()).toHaveAccessibleDescription('Only you can see this chat.');
    expect(api.state.chats[0]?.allowed_users).toEqual([]);
  });
});

describe('chats shared with the user', () => {
  const sharedChat = (n: number) =>
    projectChat({
      chat_id: `P-10234-${String(n).padStart(6, '0')}`,
      chat_name: `Shared chat ${n}`,
      user_id: 'a.rahimi',
      access: 'allowed',
      allowed_users: [TEST_USER.user_id],
      updated_at: new Date(Date.now() - n * 1000).toISOString(),
    });

  it('lists them under "Shared with me", a page at a time, with a badge and no owner actions', async () => {
    const shared = Array.from({ length: 32 }, (_, index) => sharedChat(index + 1));
    const api = installFakeApi({ chats: [makeChat({ chat_id: GENERAL_CHAT, chat_name: 'My own chat' }), ...shared] });
    const app = renderApp('/');
    const region = await screen.findByRole('region', { name: 'Shared with me' });
    const section = within(region);
    const first = (await section.findByText('Shared chat 1')).closest('a');
    expect(first).toHaveAccessibleName(/^Shared chat 1 ?\(Shared with you by a\.rahimi\) ?Bandar Abbas Refinery Expansion · Flare header$/);
    // Counted without role queries, which take jsdom seconds over this many entries.
    expect(region.querySelectorAll('li a')).toHaveLength(30);
    expect(section.queryByRole('button', { name: /Options for/ })).not.toBeInTheDocument();
    expect(sidebar().getByRole('button', { name: 'Options for My own chat' })).toBeInTheDocument();
    expect(sidebar().getAllByRole('link', { name: /My own chat/ })).toHaveLength(1);

    await app.user.click(section.getByRole('button', { name: 'More shared chats' }));
    expect(await section.findByText('Shared chat 32')).toBeInTheDocument();
    expect(region.querySelectorAll('li a')).toHaveLength(32);
    expect(api.calls('GET', '/api/chats').filter((c) => c.url.searchParams.get('scope') === 'shared').map((c) => c.url.searchParams.get('cursor'))).toEqual([
      null,
      '30',
    ]);
    expect(section.queryByRole('button', { name: 'More shared chats' })).not.toBeInTheDocument();
  }, 15_000);

  it('shows no section when nothing is shared with the user', async () => {
    installFakeApi({ chats: [makeChat({ chat_name: 'My own chat' })] });
    renderApp('/');
    await sidebar().findByRole('link', { name: 'My own chat' });
    expect(screen.queryByRole('region', { name: 'Shared with me' })).not.toBeInTheDocument();
  });

  it('names the author of each message, lets the colleague write, and offers none of the owner-only actions', async () => {
    const chat = sharedChat(1);
    const id = (n: number) => `S-${chat.chat_id}-M-00${n}`;
    const api = installFakeApi({
      chats: [chat],
      messages: {
        [chat.chat_id]: [
          makeMessage({ message_id: id(1), role: 'user', content: 'Size the flare header', author_id: 'a.rahimi', author_name: 'Arash Rahimi' }),
          makeMessage({ message_id: id(2), role: 'assistant', content: 'Start from the relief load.' }),
        ],
      },
    });
    api.on(routes.sendMessage, () =>
      sseResponse([
        {
          type: 'user_message',
          message: makeMessage({ message_id: id(3), role: 'user', content: 'What back pressure?', author_id: TEST_USER.user_id, author_name: TEST_USER.display_name }),
        },
        { type: 'assistant_message', message: makeMessage({ message_id: id(4), role: 'assistant', content: 'At most 10 %.' }) },
        { type: 'done' },
      ]),
    );
    const app = renderApp(`/c/${chat.chat_id}`);
    const owners = await conversation().findByRole('article', { name: 'Arash Rahimi said' });
    expect(owners).toHaveTextContent('Arash RahimiSize the flare header');
    expect(screen.getByRole('heading', { level: 1, name: 'Shared chat 1' })).toBeInTheDocument();
    const header = screen.getByRole('heading', { level: 1, name: 'Shared chat 1' }).closest('header') as HTMLElement;
    expect(within(header).getByText('(Shared with you by a.rahimi)')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Share' })).not.toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Regenerate' })).not.toBeInTheDocument();

    await app.user.type(screen.getByRole('textbox', { name: 'Message' }), 'What back pressure?{Enter}');
    expect(await conversation().findByText('At most 10 %.')).toBeInTheDocument();
    expect(conversation().getByRole('article', { name: 'You said' })).toHaveTextContent(`${TEST_USER.display_name}What back pressure?`);
    expect(screen.queryByRole('button', { name: 'Regenerate' })).not.toBeInTheDocument();
  });

  it('shows "not available" once the chat is no longer shared, and drops it from the list', async () => {
    const chat = sharedChat(1);
    const api = installFakeApi({ chats: [chat] });
    const app = renderApp(`/c/${chat.chat_id}`);
    await screen.findByRole('heading', { level: 1, name: 'Shared chat 1' });
    await within(await screen.findByRole('region', { name: 'Shared with me' })).findByRole('link', { name: /Shared chat 1/ });

    // The owner removes the user: every chat route now answers 404, as the API does.
    api.state.chats = [];
    api.on(routes.sendMessage, ({ params }) => errorResponse(404, 'not_found', `Chat ${params.id} not found`));
    await app.user.type(screen.getByRole('textbox', { name: 'Message' }), 'Still there?{Enter}');
    expect(await screen.findByRole('heading', { level: 1, name: 'Chat not available' })).toBeInTheDocument();
    expect(screen.getByText(/isn't shared with you \(any more\)/)).toBeInTheDocument();
    await waitFor(() => expect(screen.queryByRole('region', { name: 'Shared with me' })).not.toBeInTheDocument());
  });

  it('turns the open chat "not available" as soon as its events say the owner stopped sharing it', async () => {
    const chat = sharedChat(1);
    const api = installFakeApi({ chats: [chat] });
    renderApp(`/c/${chat.chat_id}`);
    await screen.findByRole('heading', { level: 1, name: 'Shared chat 1' });
    await waitFor(() => expect(api.followers.filter((f) => f.chatId === chat.chat_id)).toHaveLength(1));

    // The owner removes the user: the chat's followers hear of it; the user's next GET is a 404.
    api.state.chats = [];
    const { access: _mine, ...owners } = chat;
    api.followers[0]?.stream.send({ type: 'chat_updated', chat: { ...owners, access: 'owner', allowed_users: [] } }, '9-1');
    expect(await screen.findByRole('heading', { level: 1, name: 'Chat not available' })).toBeInTheDocument();
    await waitFor(() => expect(screen.queryByRole('region', { name: 'Shared with me' })).not.toBeInTheDocument());
    expect(api.calls('GET', `/api/chats/${chat.chat_id}`).length).toBeGreaterThanOrEqual(2);
  });
});
