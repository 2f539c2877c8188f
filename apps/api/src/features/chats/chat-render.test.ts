import { describe, expect, it } from 'vitest';
import { StoredChatSchema } from '@simorgh/contracts';
import { createChatRenderer } from './chat-render.js';

const stored = (changes: Record<string, unknown> = {}) =>
  JSON.stringify({
    chat_name: 'Flange ratings',
    user_id: 'arash',
    chat_type: 'general',
    project_number: null,
    project_name: null,
    page_name: null,
    created_at: '2026-11-02T08:00:00.000Z',
    updated_at: '2026-11-02T08:05:00.000Z',
    message_count: 4,
    status: 'active',
    pinned: false,
    visibility: 'private',
    allowed_users: [],
    ...changes,
  });

describe('chat renderer', () => {
  it('renders stored metadata as the wire object and its JSON', () => {
    const render = createChatRenderer();
    const rendered = render('G-202611-000001', stored());

    expect(StoredChatSchema.parse(rendered?.chat)).toEqual({ chat_id: 'G-202611-000001', ...JSON.parse(stored()) });
    expect(JSON.parse(rendered?.json ?? 'null')).toEqual(rendered?.chat);
  });

  it('answers the same stored text from memory, and a changed text afresh', () => {
    const render = createChatRenderer();
    const first = render('G-202611-000001', stored());
    expect(render('G-202611-000001', stored())).toBe(first);

    const renamed = render('G-202611-000001', stored({ chat_name: 'Gasket choice', pinned: true }));
    expect(renamed).not.toBe(first);
    expect(renamed?.chat).toMatchObject({ chat_name: 'Gasket choice', pinned: true });
    expect(JSON.parse(renamed?.json ?? 'null')).toMatchObject({ chat_name: 'Gasket choice', pinned: true });
  });

  it('keeps the same text of two chats apart by session ID', () => {
    const render = createChatRenderer();
    expect(render('G-202611-000001', stored())?.chat.chat_id).toBe('G-202611-000001');
    expect(render('G-202611-000002', stored())?.chat.chat_id).toBe('G-202611-000002');
  });

  it('does not remember a legacy record without a message count: it must be counted each time', () => {
    const render = createChatRenderer();
    const legacy = JSON.stringify({ title: 'Old chat', user_id: 'arash', created_at: 1_700_000_000 });
    const rendered = render('3f2b8a4e-8c1d-4a8e-9f59-1d2a3b4c5d6e', legacy);

    expect(rendered).toMatchObject({ json: null, chat: { chat_name: 'Old chat', message_count: 0, created_at: '2023-11-14T22:13:20.000Z' } });
    expect(render('3f2b8a4e-8c1d-4a8e-9f59-1d2a3b4c5d6e', legacy)).not.toBe(rendered);
  });

  it('skips unreadable and ownerless records', () => {
    const render = createChatRenderer();
    expect(render('G-202611-000001', '{not json')).toBeNull();
    expect(render('G-202611-000002', JSON.stringify({ chat_name: 'No owner' }))).toBeNull();
  });

  it('forgets the chats it saw longest ago once it holds its limit', () => {
    const render = createChatRenderer(2);
    const first = render('G-202611-000001', stored());
    render('G-202611-000002', stored());
    // Seeing the first one again changes nothing in the order: it was stored first.
    render('G-202611-000001', stored());
    const third = render('G-202611-000003', stored());

    expect(render('G-202611-000003', stored())).toBe(third);
    expect(render('G-202611-000001', stored())).not.toBe(first);
  });

  it('hands out objects nobody can change for the next page', () => {
    const render = createChatRenderer();
    const rendered = render('G-202611-000001', stored());
    expect(Object.isFrozen(rendered?.chat)).toBe(true);
  });
});
