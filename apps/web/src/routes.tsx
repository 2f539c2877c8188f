import { Navigate, type RouteObject } from 'react-router';
import { AppLayout } from './components/AppLayout';
import { EmptyState } from './components/EmptyState';
import { AdminRoute } from './features/admin';
import { RequireAuth, SignInPage } from './features/auth';
import { ChatRoute } from './features/messages';

export const routes: RouteObject[] = [
  { path: '/login', element: <SignInPage /> },
  {
    path: '/',
    element: (
      <RequireAuth>
        <AppLayout />
      </RequireAuth>
    ),
    children: [
      { index: true, element: <EmptyState /> },
      { path: 'c/:chatId', element: <ChatRoute /> },
      { path: 'admin', element: <AdminRoute /> },
    ],
  },
  { path: '*', element: <Navigate to="/" replace /> },
];
