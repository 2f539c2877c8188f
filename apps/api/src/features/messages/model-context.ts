import type { ChatMetadata, Message } from '@simorgh/contracts';
import type { ChatTurn } from '../llm/llm.service.js';

/**
 * How much conversation the model gets, in characters (about 4 per token for English, fewer
 * for Persian): ~12k tokens of history, which fits the context of any model worth using here
 * while leaving room for the reply. The newest messages win.
 */
export const HISTORY_CHAR_BUDGET = 48_000;

/** The system prompt, plus which project and page a project chat is about. */
export function systemPromptFor(basePrompt: string, chat: Pick<ChatMetadata, 'chat_type' | 'project_number' | 'project_name' | 'page_name'>): string {
  if (chat.chat_type !== 'project' || !chat.project_number) return basePrompt;
  const project = chat.project_name ? `project "${chat.project_name}" (project number ${chat.project_number})` : `project number ${chat.project_number}`;
  const page = chat.page_name ? `, page "${chat.page_name}"` : '';
  return `${basePrompt}\n\nThis conversation is about ${project}${page}. Keep answers relevant to that project.`;
}

/**
 * The turns sent to the model: the system prompt and the newest messages that fit the budget.
 * Failed replies are left out (they hold an error, not an answer); stopped replies stay, since
 * the user saw them. The last message (the one being answered) is always included.
 */
export function buildModelTurns(
  systemPrompt: string,
  history: Message[],
  budgetChars: number = HISTORY_CHAR_BUDGET,
): ChatTurn[] {
  const usable = history.filter((message) => message.role === 'user' || (message.status !== 'error' && message.content.trim() !== ''));
  const picked: ChatTurn[] = [];
  let used = 0;
  for (let index = usable.length - 1; index >= 0; index -= 1) {
    const message = usable[index];
    if (!message) continue;
    const cost = message.content.length;
    if (picked.length > 0 && used + cost > budgetChars) break;
    picked.unshift({ role: message.role, content: message.content });
    used += cost;
  }
  // A history that starts with a reply reads as if the model spoke first; drop it.
  while (picked.length > 1 && picked[0]?.role === 'assistant') picked.shift();
  return [{ role: 'system', content: systemPrompt }, ...picked];
}
