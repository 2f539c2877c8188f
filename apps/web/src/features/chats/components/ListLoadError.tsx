/** A sidebar list that could not be loaded: what failed, and a way to ask again. */
export function ListLoadError({ what, onRetry }: { what: string; onRetry: () => void }) {
  return (
    <p className="sidebar-note callout-error" role="alert">
      Couldn't load {what}.{' '}
      <button type="button" className="link-button" onClick={onRetry}>
        Try again
      </button>
    </p>
  );
}
