import { SEARCH_QUERY_MAX, type SearchResult } from '@simorgh/contracts';
import { useId, useMemo, useState, type KeyboardEvent } from 'react';
import { useNavigate } from 'react-router';
import { detailOf } from '../../../api/api-error';
import { Modal } from '../../../components/Modal';
import { useDebouncedValue } from '../../../hooks/useDebouncedValue';
import { useSearch } from '../api/search-chats';
import { MarkedSnippet } from './MarkedSnippet';
import { groupByChat } from './search-groups';

/** Wait this long after the last keystroke before asking. */
export const SEARCH_DEBOUNCE_MS = 200;

export type SearchTarget = { focusMessage: string | null };

const KIND_LABEL = { user: 'You', assistant: 'Reply' } as const;

function placeOf(result: SearchResult): string {
  if (result.chat_type !== 'project') return 'General chat';
  return [result.project_number && `${result.project_number} · ${result.project_name ?? ''}`.trim(), result.page_name].filter(Boolean).join(' — ');
}

/**
 * Search as you type (debounced; React Query aborts the request for the text before), results
 * grouped by chat; ↑/↓ move, Enter opens the chat at the message, Esc closes.
 */
export default function SearchDialog({ initialQuery, onClose }: { initialQuery: string; onClose: () => void }) {
  const [text, setText] = useState(initialQuery);
  const q = useDebouncedValue(text.trim().slice(0, SEARCH_QUERY_MAX), SEARCH_DEBOUNCE_MS);
  const search = useSearch(q);
  const navigate = useNavigate();
  const listId = useId();
  const results = useMemo(() => (q === '' ? [] : (search.data?.results ?? [])), [q, search.data]);
  const groups = useMemo(() => groupByChat(results), [results]);
  const flat = useMemo(() => groups.flatMap((group) => group.results), [groups]);
  const [active, setActive] = useState(0);
  const [shownFor, setShownFor] = useState(results);
  if (shownFor !== results) {
    setShownFor(results);
    setActive(0);
  }
  const optionId = (index: number) => `${listId}-option-${index}`;

  const open = (result: SearchResult) => {
    onClose();
    const target: SearchTarget = { focusMessage: result.message_id };
    void navigate(`/c/${encodeURIComponent(result.chat_id)}`, { state: target });
  };

  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      if (flat.length === 0) return;
      const step = event.key === 'ArrowDown' ? 1 : -1;
      const next = (active + step + flat.length) % flat.length;
      setActive(next);
      document.getElementById(optionId(next))?.scrollIntoView?.({ block: 'nearest' });
    } else if (event.key === 'Enter') {
      event.preventDefault();
      const chosen = flat[active];
      if (chosen) open(chosen);
    }
  };

  const settled = q === text.trim().slice(0, SEARCH_QUERY_MAX) && !search.isPlaceholderData && !search.isFetching;
  let index = -1;
  return (
    <Modal title="Search chats" onClose={onClose} className="search-dialog">
      <input
        data-autofocus
        type="search"
        className="input search-input"
        placeholder="Words from a title or a message"
        aria-label="Search chats"
        role="combobox"
        aria-expanded={flat.length > 0}
        aria-controls={listId}
        aria-autocomplete="list"
        aria-activedescendant={flat.length > 0 ? optionId(active) : undefined}
        maxLength={SEARCH_QUERY_MAX}
        value={text}
        onChange={(event) => setText(event.target.value)}
        onKeyDown={onKeyDown}
      />
      <div id={listId} role="listbox" aria-label="Results" className="search-results">
        {groups.map((group) => (
          <div key={group.chatId} role="group" aria-label={group.first.chat_name} className="search-group">
            <div className="search-group-head" aria-hidden="true">
              <span className="search-group-title">{group.first.chat_name}</span>
              <span className="search-group-place">{placeOf(group.first)}</span>
            </div>
            {group.results.map((result) => {
              index += 1;
              const mine = index;
              return (
                <div
                  key={`${result.chat_id}/${result.message_id ?? 'title'}`}
                  id={optionId(mine)}
                  role="option"
                  aria-selected={mine === active}
                  className={`search-option${mine === active ? ' active' : ''}`}
                  onMouseMove={() => setActive(mine)}
                  onClick={() => open(result)}
                >
                  <span className="search-kind">{result.role ? KIND_LABEL[result.role] : 'Title'}</span>
                  <MarkedSnippet snippet={result.snippet} highlights={result.highlights} />
                </div>
              );
            })}
          </div>
        ))}
      </div>
      {search.isError && (
        <p className="callout callout-error" role="alert">
          {detailOf(search.error, "Couldn't search right now.")}
        </p>
      )}
      {q !== '' && settled && search.isSuccess && results.length === 0 && (
        <p className="muted search-empty" role="status">
          Nothing matches “{q}”.
        </p>
      )}
      {q === '' && <p className="muted search-empty">Type words from a chat's title or messages.</p>}
    </Modal>
  );
}
