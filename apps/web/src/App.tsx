import { QueryClientProvider, type QueryClient } from '@tanstack/react-query';
import { useRoutes } from 'react-router';
import { NoticeProvider } from './components/NoticeProvider';
import { routes } from './routes';

function AppRoutes() {
  return useRoutes(routes);
}

/**
 * The app inside whichever router the caller provides: BrowserRouter in the page, MemoryRouter in
 * tests. Declarative routing keeps react-router's data-loading machinery (unused here) out of the
 * initial bundle.
 */
export function App({ queryClient }: { queryClient: QueryClient }) {
  return (
    <QueryClientProvider client={queryClient}>
      <NoticeProvider>
        <AppRoutes />
      </NoticeProvider>
    </QueryClientProvider>
  );
}
