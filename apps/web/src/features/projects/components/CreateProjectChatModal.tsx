import { useId, useState, type FormEvent } from 'react';
import { detailOf } from '../../../api/api-error';
import { Modal } from '../../../components/Modal';
import { useCreateProjectChat, useOpenNewChat } from '../../chats';
import { useProjectLookup, type ProjectLookup } from '../hooks/useProjectLookup';

function LookupStatus({ lookup, id }: { lookup: ProjectLookup; id: string }) {
  let tone = 'muted';
  let text: string;
  switch (lookup.state) {
    case 'empty':
      text = 'Enter the project number, digits only.';
      break;
    case 'checking':
      text = 'Checking project…';
      break;
    case 'found':
      tone = 'ok';
      text = `✓ ${lookup.project.project_name}`;
      break;
    case 'unavailable':
      tone = 'warn';
      text = `The project directory is unavailable, so this project can't be checked right now. ${lookup.message}`;
      break;
    default:
      tone = 'error';
      text = lookup.message;
  }
  return (
    <p id={id} className={`field-status field-status-${tone}`} aria-live="polite">
      {text}
    </p>
  );
}

/** Starts a chat about one page of a project, checking the project as the user types. */
export function CreateProjectChatModal({ onClose }: { onClose: () => void }) {
  const statusId = useId();
  const [projectInput, setProjectInput] = useState('');
  const [pageName, setPageName] = useState('');
  const lookup = useProjectLookup(projectInput);
  const create = useCreateProjectChat();
  const openNewChat = useOpenNewChat();

  const project = lookup.state === 'found' ? lookup.project : null;
  const canCreate = project !== null && pageName.trim() !== '' && !create.isPending;
  const invalid = ['invalid', 'not_found', 'forbidden'].includes(lookup.state);

  const onSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (!canCreate) return;
    create.mutate(
      { projectNumber: project.project_number, pageName: pageName.trim() },
      {
        onSuccess: ({ chat }) => {
          onClose();
          openNewChat(chat.chat_id);
        },
      },
    );
  };

  const createError = create.error === null ? null : detailOf(create.error, 'The chat could not be created. Try again.');

  return (
    <Modal title="New project chat" onClose={onClose} className="modal-form">
      <form onSubmit={onSubmit} noValidate>
        <label className="field">
          <span>Project ID</span>
          <input
            data-autofocus
            inputMode="numeric"
            autoComplete="off"
            value={projectInput}
            aria-invalid={invalid}
            aria-describedby={statusId}
            onChange={(event) => {
              create.reset();
              setProjectInput(event.target.value);
            }}
          />
        </label>
        <LookupStatus lookup={lookup} id={statusId} />
        <label className="field">
          <span>Page Name</span>
          <input
            autoComplete="off"
            maxLength={200}
            value={pageName}
            onChange={(event) => {
              create.reset();
              setPageName(event.target.value);
            }}
          />
        </label>
        {createError !== null && (
          <p className="callout callout-error" role="alert">
            {createError}
          </p>
        )}
        <div className="modal-actions">
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button button-primary" disabled={!canCreate}>
            {create.isPending ? 'Creating…' : 'Create'}
          </button>
        </div>
      </form>
    </Modal>
  );
}
