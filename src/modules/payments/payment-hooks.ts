import type { RequestContext } from '../../platform/context';
import type { CustomStrategy, Placement, PaymentToMatch } from './allocation-strategies';

/** Runs before matching; `skip` leaves the payment unapplied for a person, with the reason. */
export type BeforeApplicationHook = (ctx: RequestContext, payment: PaymentToMatch) => Promise<{ skip?: boolean; reason?: string } | void>;
/** Runs after placements are decided, in the same transaction (e.g. notify a treasury system). */
export type AfterApplicationHook = (ctx: RequestContext, payment: PaymentToMatch, placements: readonly Placement[]) => Promise<void>;

/**
 * TypeScript hooks a tenant's application rules may name: CUSTOM strategies, and before/after
 * hooks. Registered at composition (config/plugins), referenced by name in the rules.
 */
export class PaymentHookRegistry {
  private readonly strategies = new Map<string, CustomStrategy>();
  private readonly before = new Map<string, BeforeApplicationHook>();
  private readonly after = new Map<string, AfterApplicationHook>();

  registerStrategy(name: string, fn: CustomStrategy): void {
    this.strategies.set(name, fn);
  }
  registerBefore(name: string, fn: BeforeApplicationHook): void {
    this.before.set(name, fn);
  }
  registerAfter(name: string, fn: AfterApplicationHook): void {
    this.after.set(name, fn);
  }
  strategy(name: string): CustomStrategy | undefined {
    return this.strategies.get(name);
  }
  beforeHook(name: string): BeforeApplicationHook | undefined {
    return this.before.get(name);
  }
  afterHook(name: string): AfterApplicationHook | undefined {
    return this.after.get(name);
  }
  has(kind: 'strategy' | 'before' | 'after', name: string): boolean {
    return (kind === 'strategy' ? this.strategies : kind === 'before' ? this.before : this.after).has(name);
  }
}
