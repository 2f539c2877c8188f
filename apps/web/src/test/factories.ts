import { ChatMetadataSchema, MessageSchema, type ChatMetadata, type Message, type User } from '@simorgh/contracts';

export const TEST_USER: User = { user_id: 'e.rostami', display_name: 'Elham Rostami' };

export function makeChat(overrides: Partial<ChatMetadata> = {}): ChatMetadata {
  const now = new Date().toISOString();
  return ChatMetadataSchema.parse({
    chat_id: 'G-202611-000001',
    chat_name: 'Pump curve questions',
    user_id: TEST_USER.user_id,
    chat_type: 'general',
    project_number: null,
    project_name: null,
    page_name: null,
    created_at: now,
    updated_at: now,
    message_count: 0,
    status: 'active',
    pinned: false,
    visibility: 'private',
    allowed_users: [],
    access: 'owner',
    ...overrides,
  });
}

export function makeMessage(overrides: Partial<Message> & Pick<Message, 'message_id' | 'role' | 'content'>): Message {
  return MessageSchema.parse({ created_at: new Date().toISOString(), status: 'complete', ...overrides });
}
