import { render } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { MemoryRouter, useLocation } from 'react-router';
import { signIn } from '../api/auth-store';
import { App } from '../App';
import { createQueryClient } from '../query-client';
import { TEST_USER } from './factories';

const TEST_TOKEN = 'test-token';

let currentPath = '';

function LocationProbe() {
  currentPath = useLocation().pathname;
  return null;
}

/** Renders the whole app at `path`, signed in unless told otherwise. */
export function renderApp(path: string, { signedIn = true } = {}) {
  if (signedIn) signIn(TEST_TOKEN, TEST_USER);
  const queryClient = createQueryClient();
  queryClient.setDefaultOptions({
    queries: { ...queryClient.getDefaultOptions().queries, retry: false, gcTime: Infinity },
  });
  const user = userEvent.setup();
  const utils = render(
    <MemoryRouter initialEntries={[path]}>
      <App queryClient={queryClient} />
      <LocationProbe />
    </MemoryRouter>,
  );
  return { ...utils, user, queryClient, path: () => currentPath };
}
