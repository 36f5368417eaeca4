import { Arg, Args, Authorized, Field, FieldResolver, ID, Mutation, ObjectType, Query, Resolver, Root } from 'type-graphql';
import { Role } from '../../platform/auth/roles';
import type { RequestContext } from '../../platform/context';
import { PageArgs } from '../../platform/graphql/connection';
import { Ctx } from '../../platform/graphql/gql-context';
import { Money } from '../../platform/graphql/money.type';
import { ApprovalRequest } from '../approvals/approval-request.entity';
import { Invoice } from '../invoices/invoice.entity';
import type { InvoiceService } from '../invoices/invoice.service';
import { Allocation } from './allocation.entity';
import type { ApplicationRulesService } from './application-rules.service';
import { ArDocument } from './ar-document.entity';
import type { CreditService } from './credit.service';
import {
  AllocationInput,
  CreateAdjustmentInput,
  CreateCreditMemoInput,
  CreateDebitMemoInput,
  PaymentApplicationRules,
  PaymentConnection,
  PaymentFilterInput,
  RecordPaymentInput,
  RecordPaymentsPayload,
  RequestWriteOffInput,
  SetPaymentApplicationRulesInput,
} from './dto/payment.inputs';
import type { PaymentApplicationService } from './payment-application.service';
import { Payment, ReversalReason } from './payment.entity';
import type { PaymentService } from './payment.service';
import { PaymentSuggestion } from './payment-suggestion.entity';

@ObjectType({ description: 'What a customer can still use: unapplied cash and open credit memos, per currency.' })
export class CustomerCredit {
  @Field(() => Money) unapplied: Money;
  @Field(() => Money) creditMemos: Money;
}

@Resolver(() => Payment)
export class PaymentResolver {
  constructor(
    private readonly paymentService: PaymentService,
    private readonly application: PaymentApplicationService,
    private readonly rules: ApplicationRulesService,
    private readonly credits: CreditService,
  ) {}

  @Authorized(Role.COLLECTOR)
  @Mutation(() => RecordPaymentsPayload, { description: 'Record up to 1,000 payments, idempotent by (source, externalId); applied at once unless applyNow is false (then by a job).' })
  async recordPayments(@Ctx() ctx: RequestContext, @Arg('input', () => [RecordPaymentInput]) input: RecordPaymentInput[], @Arg('applyNow', { defaultValue: true }) applyNow: boolean): Promise<RecordPaymentsPayload> {
    const outcomes = await this.paymentService.record(ctx, input, { applyNow });
    const results = await Promise.all(outcomes.map(async (o) => ({ index: o.index, externalId: o.externalId, created: o.created, errors: o.errors, payment: o.paymentId ? await this.paymentService.get(ctx, o.paymentId) : null })));
    const failed = results.filter((r) => r.errors.length > 0).length;
    return { results, failed, succeeded: results.length - failed };
  }

  @Authorized(Role.VIEWER)
  @Query(() => PaymentConnection, { description: 'Payments, newest first.' })
  payments(@Ctx() ctx: RequestContext, @Args() page: PageArgs, @Arg('filter', () => PaymentFilterInput, { nullable: true }) filter: PaymentFilterInput | null) {
    return this.paymentService.list(ctx, { ...page, filter });
  }

  @Authorized(Role.VIEWER)
  @Query(() => Payment, { nullable: true })
  payment(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string): Promise<Payment | null> {
    return this.paymentService.get(ctx, id);
  }

  @Authorized(Role.VIEWER)
  @Query(() => PaymentConnection, { description: 'The unapplied-cash queue: payments with cash not yet on an invoice, each with ranked suggestions.' })
  unappliedCash(@Ctx() ctx: RequestContext, @Args() page: PageArgs, @Arg('filter', () => PaymentFilterInput, { nullable: true }) filter: PaymentFilterInput | null) {
    return this.paymentService.list(ctx, { ...page, filter, unappliedOnly: true });
  }

  @Authorized(Role.VIEWER)
  @Query(() => [CustomerCredit])
  async customerCredit(@Ctx() ctx: RequestContext, @Arg('customerId', () => ID) customerId: string): Promise<CustomerCredit[]> {
    return (await this.paymentService.customerCredit(ctx, customerId)).map((c) => ({ unapplied: Money.of(c.unappliedMinor, c.currency), creditMemos: Money.of(c.creditMemoMinor, c.currency) }));
  }

  @Authorized(Role.COLLECTOR)
  @Mutation(() => Payment, { description: 'Split a payment\'s unapplied cash over invoices by hand.' })
  async allocatePayment(@Ctx() ctx: RequestContext, @Arg('paymentId', () => ID) paymentId: string, @Arg('allocations', () => [AllocationInput]) allocations: AllocationInput[]): Promise<Payment | null> {
    return this.paymentService.get(ctx, await this.application.allocate(ctx, paymentId, allocations));
  }

  @Authorized(Role.COLLECTOR)
  @Mutation(() => Payment)
  async acceptSuggestion(@Ctx() ctx: RequestContext, @Arg('suggestionId', () => ID) suggestionId: string): Promise<Payment | null> {
    return this.paymentService.get(ctx, await this.application.acceptSuggestion(ctx, suggestionId));
  }

  @Authorized(Role.MANAGER)
  @Mutation(() => Payment, { description: 'Returned ACH, NSF, chargeback: undo every allocation, reopen the invoices, resume dunning.' })
  async reversePayment(@Ctx() ctx: RequestContext, @Arg('paymentId', () => ID) paymentId: string, @Arg('reason', () => ReversalReason) reason: ReversalReason, @Arg('note', () => String, { nullable: true }) note: string | null): Promise<Payment | null> {
    return this.paymentService.get(ctx, await this.application.reverse(ctx, paymentId, reason, note));
  }

  @Authorized(Role.VIEWER)
  @Query(() => PaymentApplicationRules, { description: 'The ordered matching strategies for an entity (or the tenant default).' })
  paymentApplicationRules(@Ctx() ctx: RequestContext, @Arg('entityCode', () => String, { nullable: true }) entityCode: string | null): Promise<PaymentApplicationRules> {
    return this.rules.get(ctx, entityCode);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => PaymentApplicationRules)
  setPaymentApplicationRules(@Ctx() ctx: RequestContext, @Arg('input') input: SetPaymentApplicationRulesInput): Promise<PaymentApplicationRules> {
    return this.rules.set(ctx, input);
  }

  @Authorized(Role.COLLECTOR)
  @Mutation(() => ArDocument)
  createCreditMemo(@Ctx() ctx: RequestContext, @Arg('input') input: CreateCreditMemoInput): Promise<ArDocument> {
    return this.credits.createCreditMemo(ctx, input);
  }

  @Authorized(Role.COLLECTOR)
  @Mutation(() => ArDocument)
  applyCreditMemo(@Ctx() ctx: RequestContext, @Arg('creditMemoId', () => ID) creditMemoId: string, @Arg('allocations', () => [AllocationInput]) allocations: AllocationInput[]): Promise<ArDocument> {
    return this.credits.applyCreditMemo(ctx, creditMemoId, allocations);
  }

  @Authorized(Role.COLLECTOR)
  @Mutation(() => ArDocument)
  createDebitMemo(@Ctx() ctx: RequestContext, @Arg('input') input: CreateDebitMemoInput): Promise<ArDocument> {
    return this.credits.createDebitMemo(ctx, input);
  }

  @Authorized(Role.MANAGER)
  @Mutation(() => ArDocument)
  createAdjustment(@Ctx() ctx: RequestContext, @Arg('input') input: CreateAdjustmentInput): Promise<ArDocument> {
    return this.credits.createAdjustment(ctx, input);
  }

  @Authorized(Role.COLLECTOR)
  @Mutation(() => ApprovalRequest, { description: 'Ask for a write-off; a MANAGER or above other than you approves it.' })
  requestWriteOff(@Ctx() ctx: RequestContext, @Arg('input') input: RequestWriteOffInput): Promise<ApprovalRequest> {
    return this.credits.requestWriteOff(ctx, input);
  }

  @Authorized(Role.MANAGER)
  @Mutation(() => ApprovalRequest)
  approveWriteOff(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string, @Arg('note', () => String, { nullable: true }) note: string | null): Promise<ApprovalRequest> {
    return this.credits.decideWriteOff(ctx, id, true, note);
  }

  @Authorized(Role.MANAGER)
  @Mutation(() => ApprovalRequest)
  rejectWriteOff(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string, @Arg('note') note: string): Promise<ApprovalRequest> {
    return this.credits.decideWriteOff(ctx, id, false, note);
  }

  @Authorized(Role.COLLECTOR)
  @Mutation(() => ID, { description: 'Usage is reconciled: the invoice may be matched by amount and dunned again.' })
  releaseReconciliationHold(@Ctx() ctx: RequestContext, @Arg('invoiceId', () => ID) invoiceId: string, @Arg('note', () => String, { nullable: true }) note: string | null): Promise<string> {
    return this.credits.releaseReconciliationHold(ctx, invoiceId, note);
  }

  @FieldResolver(() => Money)
  amount(@Root() p: Payment): Money {
    return Money.of(p.amountMinor, p.currency);
  }
  @FieldResolver(() => Money)
  applied(@Root() p: Payment): Money {
    return Money.of(p.appliedMinor, p.currency);
  }
  @FieldResolver(() => Money, { description: 'Cash not on any invoice yet: the payer\'s credit.' })
  unapplied(@Root() p: Payment): Money {
    return Money.of(p.unappliedMinor, p.currency);
  }
  @FieldResolver(() => Money)
  reversed(@Root() p: Payment): Money {
    return Money.of(p.reversedMinor, p.currency);
  }
  @FieldResolver(() => [Allocation])
  allocations(@Ctx() ctx: RequestContext, @Root() p: Payment): Promise<Allocation[]> {
    return this.paymentService.allocationsLoader(ctx).load(p.id);
  }
  @FieldResolver(() => [PaymentSuggestion], { description: 'Ranked, best first.' })
  suggestions(@Ctx() ctx: RequestContext, @Root() p: Payment): Promise<PaymentSuggestion[]> {
    return this.paymentService.suggestionsLoader(ctx).load(p.id);
  }
}

@Resolver(() => Allocation)
export class AllocationResolver {
  constructor(private readonly invoices: InvoiceService) {}

  @FieldResolver(() => Money, { description: 'What the invoice lost, in the invoice currency.' })
  amount(@Root() a: Allocation): Money {
    return Money.of(a.amountMinor, a.currency);
  }
  @FieldResolver(() => Money, { description: 'What the payment (or credit memo) gave up, in its own currency; equal to `amount` unless `rate` is set (then `amount` is this converted at `rate`).' })
  sourceAmount(@Root() a: Allocation): Money {
    return Money.of(a.sourceAmountMinor, a.sourceCurrency);
  }
  @FieldResolver(() => Invoice, { nullable: true })
  invoice(@Ctx() ctx: RequestContext, @Root() a: Allocation): Promise<Invoice | null> {
    return this.invoices.loader(ctx).load(a.invoiceId);
  }
}

@Resolver(() => PaymentSuggestion)
export class PaymentSuggestionResolver {
  constructor(private readonly invoiceService: InvoiceService) {}

  @FieldResolver(() => Money, { description: 'What accepting it would apply.' })
  async amount(@Ctx() ctx: RequestContext, @Root() s: PaymentSuggestion): Promise<Money> {
    const inv = await this.invoiceService.loader(ctx).load(s.invoiceIds[0]);
    return Money.of(s.amountMinor, inv?.currency ?? 'USD');
  }
  @FieldResolver(() => [Invoice])
  async invoices(@Ctx() ctx: RequestContext, @Root() s: PaymentSuggestion): Promise<Invoice[]> {
    return (await this.invoiceService.loader(ctx).loadMany(s.invoiceIds)).filter((i): i is Invoice => !!i && !(i instanceof Error));
  }
}

@Resolver(() => ArDocument)
export class ArDocumentResolver {
  @FieldResolver(() => Money, { description: 'Signed for adjustments (negative lowers the balance).' })
  amount(@Root() d: ArDocument): Money {
    return Money.of(d.amountMinor, d.currency);
  }
  @FieldResolver(() => Money, { description: 'Credit memos: credit not yet applied.' })
  open(@Root() d: ArDocument): Money {
    return Money.of(d.openMinor, d.currency);
  }
}
