import { useState, type FormEvent } from 'react';
import { Navigate, useLocation, useNavigate } from 'react-router';
import { detailOf } from '../../../api/api-error';
import { useAuth } from '../hooks/useAuth';

type FromState = { from?: string } | null;

export function SignInPage() {
  const { user, notice, signIn } = useAuth();
  const navigate = useNavigate();
  const location = useLocation();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [pending, setPending] = useState(false);
  const from = (location.state as FromState)?.from ?? '/';

  if (user !== null && !pending) return <Navigate to={from} replace />;

  const onSubmit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (username.trim() === '' || password === '') {
      setError('Enter your username and password.');
      return;
    }
    setPending(true);
    setError(null);
    try {
      await signIn(username.trim(), password);
      void navigate(from, { replace: true });
    } catch (caught) {
      setError(detailOf(caught, 'Sign-in failed. Try again.'));
      setPending(false);
    }
  };

  return (
    <main className="signin">
      <form className="signin-card" onSubmit={(event) => void onSubmit(event)} noValidate aria-labelledby="signin-title">
        <div className="brand brand-large">
          <span className="brand-mark" aria-hidden="true" />
          <span>Simorgh Chat</span>
        </div>
        <h1 id="signin-title">Sign in</h1>
        <p className="muted">Use your company account.</p>
        {notice !== null && (
          <p className="callout callout-info" role="status">
            {notice}
          </p>
        )}
        <label className="field">
          <span>Username</span>
          <input
            name="username"
            autoComplete="username"
            autoCapitalize="none"
            spellCheck={false}
            value={username}
            onChange={(event) => setUsername(event.target.value)}
            autoFocus
          />
        </label>
        <label className="field">
          <span>Password</span>
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(event) => setPassword(event.target.value)}
          />
        </label>
        {error !== null && (
          <p className="callout callout-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="button button-primary button-block" disabled={pending}>
          {pending ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
