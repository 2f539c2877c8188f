import { Navigate, type RouteObject } from 'react-router';
import { AppLayout } from './components/AppLayout';
import { ChatRoute } from './components/ChatRoute';
import { EmptyState } from './components/EmptyState';
import { RequireAuth } from './components/RequireAuth';
import { SignInPage } from './components/SignInPage';

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
    ],
  },
  { path: '*', element: <Navigate to="/" replace /> },
];
