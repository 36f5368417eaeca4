import type { AuthChecker } from 'type-graphql';
import { forbidden, unauthenticated } from '../errors';
import { PARTNER, Role, roleAtLeast } from '../auth/roles';
import type { GqlContext } from './gql-context';

/**
 * @Authorized() = any valid key; @Authorized(Role.MANAGER) = manager or above;
 * @Authorized(PARTNER) = a partner key.
 */
export const authChecker: AuthChecker<GqlContext, string> = ({ context }, required) => {
  const actor = context.actor;
  if (!actor) throw unauthenticated('Send a valid API key as "Authorization: Bearer <key>"');
  if (required.includes(PARTNER) && !actor.partner) throw forbidden('This operation needs a partner API key');
  const roles = required.filter((r): r is Role => r !== PARTNER);
  if (roles.length > 0 && !roles.some((r) => roleAtLeast(actor.role, r))) {
    throw forbidden(`This operation needs role ${roles.join(' or ')}; this key has ${actor.role}`);
  }
  return true;
};
