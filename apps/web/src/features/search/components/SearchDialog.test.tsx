import { routes, type SearchResult } from '@simorgh/contracts';
import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { installFakeApi } from '../../../test/fake-api';
import { makeChat, makeMessage } from '../../../test/factories';
import { renderApp } from '../../../test/render-app';
import { deferred, errorResponse, type RouteReply } from '../../../test/route-handlers';

const GENERAL = 'G-202611-000001';
const PROJECT = 'P-10234-000001';
const messageId = (chatId: string, n: number) => `S-${chatId}-M-${String(n).padStart(3, '0')}`;

function result(overrides: Partial<SearchResult> & Pick<SearchResult, 'chat_id' | 'snippet' | 'highlights'>): SearchResult {
  return {
    chat_name: 'Relief valve sizing',
    chat_type: 'general',
    project_number: null,
    project_name: null,
    page_name: null,
    message_id: null,
    role: null,
    created_at: '2026-11-20T10:00:00.000Z',
    ...overrides,
  };
}

const RESULTS: SearchResult[] = [
  result({ chat_id: GENERAL, snippet: 'Relief valve sizing', highlights: [[0, 6]] }),
  result({ chat_id: PROJECT, chat_name: 'Flare network', chat_type: 'project', project_number: '10234', project_name: 'Bandar Abbas Refinery Expansion', page_name: 'Flare network', message_id: messageId(PROJECT, 10), role: 'user', snippet: 'size the relief header for 😀 fire case', highlights: [[9, 15]] }),
  result({ chat_id: GENERAL, message_id: messageId(GENERAL, 2), role: 'assistant', snippet: 'The relief load is…', highlights: [[4, 10]] }),
];

function setup() {
  const messages = Array.from({ length: 150 }, (_, index) =>
    makeMessage({ message_id: messageId(PROJECT, index + 1), role: index % 2 === 0 ? 'user' : 'assistant', content: `Message number ${index + 1}` }),
  );
  const api = installFakeApi({
    chats: [makeChat({ chat_id: GENERAL, chat_name: 'Relief valve sizing' }), makeChat({ chat_id: PROJECT, chat_name: 'Flare network', chat_type: 'project', project_number: '10234', project_name: 'Bandar Abbas Refinery Expansion', page_name: 'Flare network' })],
    messages: { [PROJECT]: messages, [GENERAL]: [] },
  });
  api.on(routes.search, ({ url }) => {
    const q = url.searchParams.get('q') ?? '';
    return { status: 200, body: { results: q.startsWith('relie') ? RESULTS : [], next_cursor: null } };
  });
  return api;
}

const dialog = () => within(screen.getByRole('dialog', { name: 'Search chats' }));

describe('search', () => {
  it('opens with Ctrl+K from anywhere, asks for the text as it stands when typing pauses, and shows results grouped by chat with the words marked', async () => {
    const api = setup();
    const { user } = renderApp('/');
    await screen.findByText('Relief valve sizing');
    await user.keyboard('{Control>}k{/Control}');
    const input = await screen.findByRole('combobox', { name: 'Search chats' });
    // Focus moves in the dialog's effect, after the field is on screen.
    await waitFor(() => expect(input).toHaveFocus());
    await user.type(input, 'relie');

    const options = await dialog().findAllByRole('option');
    // Asked when typing paused (on a busy machine a keystroke may come after a pause), last for the whole text.
    const asked = api.calls('GET', '/api/search').map((call) => call.url.searchParams.get('q') ?? '');
    expect(asked.at(-1)).toBe('relie');
    expect(asked.every((q) => q !== '' && 'relie'.startsWith(q))).toBe(true);
    const groups = dialog().getAllByRole('group');
    expect(groups.map((group) => group.getAttribute('aria-label'))).toEqual(['Relief valve sizing', 'Flare network']);
    expect(within(groups[1] as HTMLElement).getByText('10234 · Bandar Abbas Refinery Expansion — Flare network')).toBeInTheDocument();
    // Grouped: the general chat's title and its reply together, then the project chat.
    expect(options.map((option) => option.textContent)).toEqual(['TitleRelief valve sizing', 'ReplyThe relief load is…', 'Yousize the relief header for 😀 fire case']);
    const marks = dialog().getAllByText((_, element) => element?.tagName === 'MARK');
    expect(marks.map((mark) => mark.textContent)).toEqual(['Relief', 'relief', 'relief']);
    expect(options[0]).toHaveAttribute('aria-selected', 'true');
  });

  it('aborts the request for the earlier text when the text changes', async () => {
    const api = setup();
    const first = deferred<RouteReply<typeof routes.search>>();
    api.on(routes.search, ({ url }) => (url.searchParams.get('q') === 'rel' ? first.promise : { status: 200, body: { results: RESULTS, next_cursor: null } }));
    const { user } = renderApp('/');
    await user.keyboard('{Control>}k{/Control}');
    const input = await screen.findByRole('combobox', { name: 'Search chats' });
    await user.type(input, 'rel');
    await waitFor(() => expect(api.calls('GET', '/api/search')).toHaveLength(1));
    await user.type(input, 'ief');
    await dialog().findAllByRole('option');
    const [earlier, later] = api.calls('GET', '/api/search');
    expect(later?.url.searchParams.get('q')).toBe('relief');
    expect(earlier?.signal.aborted).toBe(true);
  });

  it('moves with the arrow keys and opens the chat at the message with Enter, loading earlier pages until it is there and marking it', async () => {
    const api = setup();
    const { user, path } = renderApp('/');
    await user.type(await screen.findByRole('searchbox', { name: 'Search chats' }), 'r');
    const input = await screen.findByRole('combobox', { name: 'Search chats' });
    expect(input).toHaveValue('r');
    await user.type(input, 'elie');
    await dialog().findAllByRole('option');
    await user.keyboard('{ArrowDown}{ArrowDown}');
    expect(dialog().getAllByRole('option')[2]).toHaveAttribute('aria-selected', 'true');
    await user.keyboard('{ArrowDown}');
    expect(dialog().getAllByRole('option')[0]).toHaveAttribute('aria-selected', 'true');
    await user.keyboard('{ArrowUp}{Enter}');

    await waitFor(() => expect(path()).toBe(`/c/${PROJECT}`));
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    // Message 10 is on the second page of 100: the view fetched it and marks it.
    const target = await screen.findByText('Message number 10');
    await waitFor(() => expect(target.closest('article')).toHaveClass('message-found'));
    expect(api.calls('GET', `/api/chats/${PROJECT}/messages`).length).toBeGreaterThanOrEqual(2);
  });

  it('says when nothing matches, shows the error the API gives, and closes with Esc', async () => {
    const api = setup();
    const { user } = renderApp('/');
    await user.keyboard('{Control>}k{/Control}');
    const input = await screen.findByRole('combobox', { name: 'Search chats' });
    await user.type(input, 'zzz');
    expect(await dialog().findByRole('status')).toHaveTextContent('Nothing matches “zzz”.');

    api.on(routes.search, () => errorResponse(503, 'upstream_unavailable', 'Search is unavailable for the moment.'));
    await user.type(input, 'q');
    expect(await dialog().findByRole('alert')).toHaveTextContent('Search is unavailable for the moment.');

    await user.keyboard('{Escape}');
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
  });
});
