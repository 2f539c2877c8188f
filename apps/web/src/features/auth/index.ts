export { RequireAuth } from './components/RequireAuth';
export { SignInPage } from './components/SignInPage';
export { useAuth } from './hooks/useAuth';
export { useMe } from './api/me';
