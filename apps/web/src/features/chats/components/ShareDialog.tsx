import type { ChatMetadata, User } from '@simorgh/contracts';
import { MAX_ALLOWED_USERS } from '@simorgh/contracts';
import { useId, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { detailOf } from '../../../api/api-error';
import { Modal } from '../../../components/Modal';
import { useDebouncedValue } from '../../../hooks/useDebouncedValue';
import { useUserNames, useUserSearch } from '../api/search-users';
import { useUpdateSharing, type SharingChange } from '../api/update-sharing';
import { whoCanSee } from '../chat-access';

/** Wait this long after the last keystroke before asking for people. */
export const PEOPLE_DEBOUNCE_MS = 200;

const failureOf = (error: unknown) => detailOf(error, "Couldn't save the change. Try again.");

/**
 * Who may open the chat, saved as the owner goes: everyone on the chat's project (project chats)
 * and people picked by name from TPMS (chips with remove). A refusal (e.g. someone without access
 * to the project) is shown in the dialog and the change undone on screen.
 */
export default function ShareDialog({ chat, onClose }: { chat: ChatMetadata; onClose: () => void }) {
  const save = useUpdateSharing(chat.chat_id);
  const [everyone, setEveryone] = useState(chat.visibility === 'project');
  const [people, setPeople] = useState<string[]>(chat.allowed_users);
  /** Display names of people picked in this dialog; those already on the list are asked for once. */
  const [names, setNames] = useState<ReadonlyMap<string, string>>(new Map());
  const listed = useUserNames(chat.allowed_users);
  const [error, setError] = useState<string | null>(null);
  const [text, setText] = useState('');
  const [active, setActive] = useState(0);
  const inputRef = useRef<HTMLInputElement>(null);
  const summaryId = useId();
  const listId = useId();
  const projectNumber = chat.chat_type === 'project' ? chat.project_number : null;
  const projectName = chat.project_name ?? `project ${projectNumber ?? ''}`.trim();

  const q = useDebouncedValue(text.trim(), PEOPLE_DEBOUNCE_MS);
  const search = useUserSearch(q, projectNumber);
  const options = useMemo(() => {
    if (q === '' || text.trim() === '') return [];
    const taken = new Set([chat.user_id, ...people].map((id) => id.toLowerCase()));
    return (search.data?.users ?? []).filter((user) => !taken.has(user.user_id.toLowerCase()));
  }, [q, text, search.data, chat.user_id, people]);
  const optionId = (index: number) => `${listId}-option-${index}`;
  const current = Math.min(active, Math.max(options.length - 1, 0));

  const send = (change: SharingChange, undo: () => void) => {
    setError(null);
    save.mutate(change, {
      onError: (failure) => {
        undo();
        setError(failureOf(failure));
      },
    });
  };

  const add = (user: User) => {
    if (people.length >= MAX_ALLOWED_USERS) {
      setError(`A chat can be shared with at most ${MAX_ALLOWED_USERS} people by name.`);
      return;
    }
    const next = [...people, user.user_id];
    setPeople(next);
    setNames((known) => new Map(known).set(user.user_id, user.display_name));
    setText('');
    setActive(0);
    send({ allowed_users: next }, () => setPeople((list) => list.filter((id) => id !== user.user_id)));
  };

  const remove = (userId: string) => {
    const next = people.filter((id) => id !== userId);
    setPeople(next);
    inputRef.current?.focus();
    send({ allowed_users: next }, () => setPeople((list) => (list.includes(userId) ? list : [...list, userId])));
  };

  const toggleEveryone = (checked: boolean) => {
    setEveryone(checked);
    send({ visibility: checked ? 'project' : 'private' }, () => setEveryone(!checked));
  };

  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      if (options.length === 0) return;
      const step = event.key === 'ArrowDown' ? 1 : -1;
      setActive((current + step + options.length) % options.length);
    } else if (event.key === 'Enter') {
      event.preventDefault();
      const chosen = options[current];
      if (chosen) add(chosen);
    } else if (event.key === 'Escape' && text !== '') {
      // The first Esc closes the suggestions; the next one closes the dialog.
      event.stopPropagation();
      setText('');
    }
  };

  const nameOf = (userId: string) => {
    const name = names.get(userId) ?? listed.data?.users.find((user) => user.user_id === userId)?.display_name;
    return name === undefined || name === userId ? userId : `${name} (${userId})`;
  };
  const searching = q !== '' && text.trim() !== '';
  const settled = q === text.trim() && !search.isFetching && search.isSuccess;

  return (
    <Modal title="Share chat" onClose={onClose} describedBy={summaryId} className="share-dialog">
      <p id={summaryId} className="share-summary">
        {whoCanSee({ ...chat, visibility: everyone ? 'project' : 'private' }, people)}
      </p>
      {projectNumber !== null && (
        <label className="share-everyone">
          <input type="checkbox" checked={everyone} onChange={(event) => toggleEveryone(event.target.checked)} />
          <span>Everyone on {projectName}</span>
        </label>
      )}
      <label className="field share-field">
        <span>Add people</span>
        <input
        ref={inputRef}
        data-autofocus
        type="text"
        className="share-input"
        placeholder={projectNumber === null ? 'Name or user ID' : 'Name or user ID of someone on the project'}
        role="combobox"
        autoComplete="off"
        aria-expanded={options.length > 0}
        aria-controls={listId}
        aria-autocomplete="list"
        aria-activedescendant={options.length > 0 ? optionId(current) : undefined}
        maxLength={100}
        value={text}
        onChange={(event) => {
          setText(event.target.value);
          setActive(0);
        }}
        onKeyDown={onKeyDown}
      />
      </label>
      <div id={listId} role="listbox" aria-label="People found" className="share-options">
        {options.map((user, index) => (
          <div
            key={user.user_id}
            id={optionId(index)}
            role="option"
            aria-selected={index === current}
            className={`share-option${index === current ? ' active' : ''}`}
            onMouseMove={() => setActive(index)}
            // Keeps the focus in the field, so the keyboard carries on from there.
            onMouseDown={(event) => event.preventDefault()}
            onClick={() => add(user)}
          >
            <span>{user.display_name}</span>
            <span className="muted">{user.user_id}</span>
          </div>
        ))}
      </div>
      {searching && settled && options.length === 0 && (
        <p className="muted share-empty">
          {projectNumber === null ? `No one else matches “${q}”.` : `No one else on ${projectName} matches “${q}”.`}
        </p>
      )}
      {search.isError && (
        <p className="callout callout-error" role="alert">
          {detailOf(search.error, "Couldn't look people up right now.")}
        </p>
      )}
      {people.length > 0 && (
        <ul className="chips" aria-label="People with access">
          {people.map((userId) => (
            <li key={userId} className="chip">
              <span>{nameOf(userId)}</span>
              <button type="button" className="chip-remove" aria-label={`Remove ${nameOf(userId)}`} onClick={() => remove(userId)}>
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
      {error !== null && (
        <p className="callout callout-error" role="alert">
          {error}
        </p>
      )}
      <div className="modal-actions share-actions">
        <p className="muted share-saving" role="status">
          {save.isPending ? 'Saving…' : save.isSuccess ? 'Saved' : ''}
        </p>
        <button type="button" className="button button-primary" onClick={onClose}>
          Done
        </button>
      </div>
    </Modal>
  );
}
