import { MESSAGE_CONTENT_MAX } from '@simorgh/contracts';
import { useLayoutEffect, useState, type FormEvent, type KeyboardEvent, type RefObject } from 'react';

type ComposerProps = {
  inputRef: RefObject<HTMLTextAreaElement | null>;
  busy: boolean;
  onSend: (content: string) => void;
  onStop: () => void;
};

/** The message box: Enter sends, Shift+Enter starts a new line, Stop while a reply streams. */
export function Composer({ inputRef, busy, onSend, onStop }: ComposerProps) {
  const [text, setText] = useState('');
  const canSend = !busy && text.trim() !== '';

  // Grows with its content up to a cap set in CSS.
  useLayoutEffect(() => {
    const area = inputRef.current;
    if (area === null) return;
    area.style.height = 'auto';
    area.style.height = `${area.scrollHeight}px`;
  }, [text, inputRef]);

  const submit = (event?: FormEvent) => {
    event?.preventDefault();
    if (!canSend) return;
    onSend(text.trim());
    setText('');
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    // isComposing: Enter that confirms an IME candidate must not send.
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      submit();
    }
  };

  return (
    <form className="composer" onSubmit={submit}>
      <textarea
        ref={inputRef}
        aria-label="Message"
        placeholder="Message Simorgh Chat"
        rows={1}
        maxLength={MESSAGE_CONTENT_MAX}
        value={text}
        onChange={(event) => setText(event.target.value)}
        onKeyDown={onKeyDown}
      />
      {busy ? (
        <button type="button" className="button composer-button" onClick={onStop}>
          Stop
        </button>
      ) : (
        <button type="submit" className="button button-primary composer-button" disabled={!canSend}>
          Send
        </button>
      )}
    </form>
  );
}
