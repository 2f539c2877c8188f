import type { SearchResult } from '@simorgh/contracts';

export type SearchGroup = { chatId: string; first: SearchResult; results: SearchResult[] };

/** Results grouped by chat, groups in the order of their best result (the API's order). */
export function groupByChat(results: SearchResult[]): SearchGroup[] {
  const groups = new Map<string, SearchGroup>();
  for (const result of results) {
    const group = groups.get(result.chat_id);
    if (group) group.results.push(result);
    else groups.set(result.chat_id, { chatId: result.chat_id, first: result, results: [result] });
  }
  return [...groups.values()];
}
