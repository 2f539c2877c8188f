import { Link } from 'react-router';

export function ChatNotFound() {
  return (
    <div className="empty-state">
      <h1>Chat not found</h1>
      <p className="muted">This chat doesn't exist, was deleted, or belongs to someone else.</p>
      <Link className="button" to="/">
        Back to start
      </Link>
    </div>
  );
}
