import { registerEnumType } from 'type-graphql';

/** What an API key may do inside its tenant; each role includes the ones below it. */
export enum Role {
  VIEWER = 'VIEWER',
  COLLECTOR = 'COLLECTOR',
  MANAGER = 'MANAGER',
  ADMIN = 'ADMIN',
}
registerEnumType(Role, { name: 'Role', description: 'Each role includes the rights of the ones before it: VIEWER < COLLECTOR < MANAGER < ADMIN.' });

const RANK: Record<Role, number> = { VIEWER: 0, COLLECTOR: 1, MANAGER: 2, ADMIN: 3 };

export const roleAtLeast = (have: Role, need: Role): boolean => RANK[have] >= RANK[need];

/** Used in @Authorized(...) for operations reserved to partner keys. */
export const PARTNER = 'PARTNER';

/** Who is acting: an API key, or the system itself (jobs, bootstrap). */
export interface Actor {
  kind: 'api_key' | 'system';
  id: string;
  tenantId: string;
  role: Role;
  partner: boolean;
  name: string;
}

export function systemActor(tenantId: string, name = 'system'): Actor {
  return { kind: 'system', id: name, tenantId, role: Role.ADMIN, partner: false, name };
}
