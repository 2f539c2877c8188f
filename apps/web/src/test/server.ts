import { setupServer } from 'msw/node';

/** The one mock network of the web tests; `setup.ts` starts it and `route-handlers.ts` fills it. */
export const server = setupServer();
