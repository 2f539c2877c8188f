import { Link } from 'react-router';

/** One page for every chat the user may not open, so it tells nobody whether the chat exists. */
export function ChatNotFound() {
  return (
    <div className="empty-state">
      <h1>Chat not available</h1>
      <p className="muted">
        This chat doesn't exist, was deleted, or isn't shared with you (any more). If someone shared it with you, ask
        them to share it again.
      </p>
      <Link className="button" to="/">
        Back to start
      </Link>
    </div>
  );
}
