const isApple = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent);

/** The new-chat shortcut, as in other chat tools: Ctrl+Shift+O (⌘⇧O on a Mac). */
export const NEW_CHAT_SHORTCUT_LABEL = isApple ? '⌘⇧O' : 'Ctrl+Shift+O';

export function isNewChatShortcut(event: KeyboardEvent): boolean {
  return (event.ctrlKey || event.metaKey) && event.shiftKey && !event.altKey && event.key.toLowerCase() === 'o';
}

/** The search shortcut: Ctrl+K (⌘K on a Mac), from anywhere. */
export const SEARCH_SHORTCUT_LABEL = isApple ? '⌘K' : 'Ctrl+K';

export function isSearchShortcut(event: KeyboardEvent): boolean {
  return (event.ctrlKey || event.metaKey) && !event.shiftKey && !event.altKey && event.key.toLowerCase() === 'k';
}
