import { describe, expect, it } from 'vitest';
import { makeChat } from '../../../test/factories';
import { groupChats } from './chat-groups';

describe('groupChats', () => {
  const now = new Date(2026, 10, 20, 9, 0); // 20 Nov 2026, 09:00 local
  const at = (y: number, m: number, d: number, h = 12) => new Date(y, m, d, h).toISOString();

  it('puts pinned first, then Today / Yesterday / Previous 7 days / Older by local calendar day', () => {
    const chats = [
      makeChat({ chat_id: 'G-202611-000006', updated_at: at(2026, 10, 20, 0) }),
      makeChat({ chat_id: 'G-202611-000005', updated_at: at(2026, 10, 19, 23) }),
      makeChat({ chat_id: 'G-202611-000004', updated_at: at(2026, 10, 19, 0) }),
      makeChat({ chat_id: 'G-202611-000003', updated_at: at(2026, 10, 13) }),
      makeChat({ chat_id: 'G-202611-000002', updated_at: at(2026, 10, 12) }),
      makeChat({ chat_id: 'G-202611-000001', updated_at: at(2026, 0, 1), pinned: true }),
    ];
    const groups = groupChats(chats, now).map((g) => [g.label, g.chats.map((c) => c.chat_id.slice(-1))]);
    expect(groups).toEqual([
      ['Pinned', ['1']],
      ['Today', ['6']],
      ['Yesterday', ['5', '4']],
      ['Previous 7 days', ['3']],
      ['Older', ['2']],
    ]);
  });

  it('keeps the server order within a group and omits empty groups', () => {
    const chats = [
      makeChat({ chat_id: 'G-202611-000002', updated_at: at(2026, 10, 20, 8) }),
      makeChat({ chat_id: 'G-202611-000001', updated_at: at(2026, 10, 20, 7) }),
    ];
    expect(groupChats(chats, now)).toEqual([{ label: 'Today', chats }]);
  });
});
