import { lazy, Suspense } from 'react';
import { Link } from 'react-router';
import { useMe } from '../../auth';

// The page and its chart library load only when an admin opens it: never in the first bundle.
const AdminPage = lazy(() => import('./AdminPage'));

const loading = (
  <p className="admin-loading muted" role="status">
    Loading…
  </p>
);

/** /admin: the usage page for admins; everyone else is told it is not available to them. */
export function AdminRoute() {
  const me = useMe();
  if (me.isPending) return loading;
  if (!me.data?.is_admin) {
    return (
      <div className="empty-state">
        <h1>Not available</h1>
        <p className="muted">
          {me.isError ? 'Could not check your access right now; try again shortly.' : 'This page is for administrators only.'}
        </p>
        <Link className="button" to="/">
          Back to start
        </Link>
      </div>
    );
  }
  return (
    <Suspense fallback={loading}>
      <AdminPage />
    </Suspense>
  );
}
