import { routes } from '@simorgh/contracts';
import { callRoute } from '../../../api/client';

/** Revokes the current token on the server, so it cannot be used again anywhere. */
export function logout() {
  return callRoute(routes.logout, {});
}
