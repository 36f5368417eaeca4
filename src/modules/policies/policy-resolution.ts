import { AssignmentScope } from './policy.entities';

export interface AssignmentRow {
  policyId: string;
  scope: AssignmentScope;
  scopeValue: string;
}

export interface CustomerFacts {
  id: string;
  segment: string | null;
  tier: string | null;
  country: string | null;
}

const ORDER: AssignmentScope[] = [AssignmentScope.CUSTOMER, AssignmentScope.COUNTRY, AssignmentScope.TIER, AssignmentScope.SEGMENT, AssignmentScope.GLOBAL];

/** The most specific assignment that matches the customer, and every one that was considered. */
export function resolveAssignment(assignments: AssignmentRow[], c: CustomerFacts): { winner: AssignmentRow | null; matched: AssignmentRow[] } {
  const value: Record<AssignmentScope, string | null> = {
    [AssignmentScope.CUSTOMER]: c.id,
    [AssignmentScope.COUNTRY]: c.country,
    [AssignmentScope.TIER]: c.tier,
    [AssignmentScope.SEGMENT]: c.segment,
    [AssignmentScope.GLOBAL]: '',
  };
  const matched = ORDER.flatMap((scope) => assignments.filter((a) => a.scope === scope && value[scope] !== null && a.scopeValue === value[scope]));
  return { winner: matched[0] ?? null, matched };
}

export function describeAssignment(a: AssignmentRow): string {
  return a.scope === AssignmentScope.GLOBAL ? 'global default' : `${a.scope.toLowerCase()} = ${a.scopeValue}`;
}
