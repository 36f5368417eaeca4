import { Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { connectionType } from '../../../platform/graphql/connection';
import { Money } from '../../../platform/graphql/money.type';
import { DateScalar } from '../../../platform/graphql/scalars';
import { BillingModel, Invoice } from '../../invoices/invoice.entity';

export enum AgingDimension {
  ENTITY = 'ENTITY',
  SEGMENT = 'SEGMENT',
  COLLECTOR = 'COLLECTOR',
  CUSTOMER = 'CUSTOMER',
  CURRENCY = 'CURRENCY',
  BILLING_MODEL = 'BILLING_MODEL',
}
registerEnumType(AgingDimension, { name: 'AgingDimension', description: 'A cut of the aging report. COLLECTOR is the customer\'s owner.' });

export enum DunningStatus {
  IN_SEQUENCE = 'IN_SEQUENCE',
  PAUSED = 'PAUSED',
  DISPUTED = 'DISPUTED',
  PROMISED = 'PROMISED',
  ESCALATED = 'ESCALATED',
}
registerEnumType(DunningStatus, {
  name: 'DunningStatus',
  description:
    'IN_SEQUENCE: a dunning step was sent or is planned for the invoice and none of the others applies; PAUSED: the customer has an active pause or exclusion; DISPUTED: the invoice has an unresolved dispute; PROMISED: an open promise to pay covers the invoice; ESCALATED: the customer is in an escalation tier.',
});

export enum AgingCurrencyMode {
  ORIGINAL = 'ORIGINAL',
  FUNCTIONAL = 'FUNCTIONAL',
}
registerEnumType(AgingCurrencyMode, { name: 'AgingCurrencyMode', description: 'ORIGINAL: one row per currency; FUNCTIONAL: converted into the tenant\'s functional currency with the stored FX rates.' });

export enum AgingChangeReason {
  INITIAL = 'INITIAL',
  INVOICES = 'INVOICES',
  DISPUTES = 'DISPUTES',
  DAY_ROLLOVER = 'DAY_ROLLOVER',
  SETTINGS = 'SETTINGS',
  FX_RATES = 'FX_RATES',
  /** A pause or exclusion started or ended (the PAUSED cut). */
  PAUSES = 'PAUSES',
  /** A promise to pay was made, kept, broken or cancelled (the PROMISED cut). */
  PROMISES = 'PROMISES',
}
registerEnumType(AgingChangeReason, { name: 'AgingChangeReason' });

export enum MetricsGrouping {
  NONE = 'NONE',
  ENTITY = 'ENTITY',
  SEGMENT = 'SEGMENT',
  ENTITY_SEGMENT = 'ENTITY_SEGMENT',
}
registerEnumType(MetricsGrouping, { name: 'MetricsGrouping' });

@InputType({ description: 'Every list narrows the report; lists are OR-ed inside, AND-ed together.' })
export class AgingFilter {
  @Field(() => [ID], { nullable: true }) entityIds?: string[] | null;
  @Field(() => [String], { nullable: true, description: 'Customer segments; an empty string matches customers without one.' }) segments?: string[] | null;
  @Field(() => [ID], { nullable: true, description: 'Customer owners (user ids).' }) collectorIds?: string[] | null;
  @Field(() => [ID], { nullable: true }) customerIds?: string[] | null;
  @Field(() => [String], { nullable: true }) currencies?: string[] | null;
  @Field(() => [BillingModel], { nullable: true }) billingModels?: BillingModel[] | null;
  @Field(() => [DunningStatus], { nullable: true }) dunningStatuses?: DunningStatus[] | null;
  @Field(() => [Int], { nullable: true, description: 'The customer\'s current escalation tier.' }) escalationTiers?: number[] | null;
  @Field(() => [String], { nullable: true, description: 'Invoices paid (partly) by these methods: ACH, WIRE, CHECK, CARD, PORTAL, BATCH_SETTLEMENT.' }) paymentMethods?: string[] | null;
}

@ObjectType()
export class AgingBucketDefinition {
  @Field(() => Int) index: number;
  @Field({ description: 'e.g. "Current", "1-30", "90+".' }) label: string;
  @Field(() => Int, { nullable: true, description: 'Smallest days past due in the bucket (null: current).' }) fromDays: number | null;
  @Field(() => Int, { nullable: true, description: 'Largest days past due in the bucket (null: open-ended).' }) toDays: number | null;
}

@ObjectType({ description: 'The values of the grouped dimensions of a row; the others are null.' })
export class AgingGroup {
  @Field(() => ID, { nullable: true }) entityId: string | null;
  @Field(() => String, { nullable: true }) entityCode: string | null;
  @Field(() => String, { nullable: true }) entityName: string | null;
  @Field(() => String, { nullable: true }) segment: string | null;
  @Field(() => ID, { nullable: true }) collectorId: string | null;
  @Field(() => String, { nullable: true }) collectorName: string | null;
  @Field(() => ID, { nullable: true }) customerId: string | null;
  @Field(() => String, { nullable: true }) customerName: string | null;
  @Field(() => String, { nullable: true }) currency: string | null;
  @Field(() => BillingModel, { nullable: true }) billingModel: BillingModel | null;
}

@ObjectType()
export class AgingCell {
  @Field(() => Int) bucket: number;
  @Field(() => Money) amount: Money;
  @Field(() => Int) invoiceCount: number;
}

@ObjectType()
export class AgingRow {
  @Field({ description: 'Opaque key of the row; pass it to agingInvoices to drill down.' }) key: string;
  @Field(() => AgingGroup) group: AgingGroup;
  @Field({ description: 'The currency of every amount in the row.' }) currency: string;
  @Field(() => [AgingCell], { description: 'One cell per bucket, in bucket order.' }) cells: AgingCell[];
  @Field(() => Money) total: Money;
  @Field(() => Int) invoiceCount: number;
}

@ObjectType()
export class AgingReport {
  @Field(() => DateScalar) asOf: string;
  @Field(() => [AgingDimension]) groupBy: AgingDimension[];
  @Field(() => AgingCurrencyMode) currencyMode: AgingCurrencyMode;
  @Field() functionalCurrency: string;
  @Field(() => [AgingBucketDefinition]) buckets: AgingBucketDefinition[];
  @Field(() => [AgingRow]) rows: AgingRow[];
  @Field(() => [AgingRow], { description: 'One per currency (ORIGINAL) or one (FUNCTIONAL).' }) totals: AgingRow[];
  @Field(() => [String], { description: 'Currencies left out of a FUNCTIONAL report because no FX rate was stored for them.' }) missingFxRates: string[];
}

@ObjectType()
export class AgingChange {
  @Field(() => [AgingChangeReason]) reasons: AgingChangeReason[];
  @Field(() => [String], { description: 'Keys of the rows whose figures changed since the previous event (all rows on INITIAL).' }) changedRowKeys: string[];
  @Field(() => AgingReport) report: AgingReport;
}

@InputType()
export class AgingCellInput {
  @Field({ description: 'AgingRow.key (a row or a total).' }) rowKey: string;
  @Field(() => Int, { nullable: true, description: 'Bucket index; null for every bucket of the row.' }) bucket?: number | null;
}

@ObjectType()
export class ExecutedStep {
  @Field() stepKey: string;
  @Field(() => [String]) channels: string[];
  @Field(() => Date, { nullable: true }) sentAt: Date | null;
  @Field(() => DateScalar) scheduledFor: string;
}

@ObjectType()
export class CollectionsHistory {
  @Field(() => [ExecutedStep], { description: 'Dunning steps sent for the invoice, oldest first.' }) stepsExecuted: ExecutedStep[];
  @Field(() => Int, { nullable: true, description: 'The customer\'s current escalation tier.' }) currentTier: number | null;
  @Field(() => DateScalar, { nullable: true }) tierEnteredOn: string | null;
  @Field(() => Date, { nullable: true, description: 'When the customer last paid through the portal (the latest PORTAL payment received on or before asOf, at the time Recoup recorded it); null if never. Portal visits without a payment are not recorded.' }) lastPortalInteractionAt: Date | null;
}

@ObjectType()
export class AgingInvoice {
  @Field(() => Invoice) invoice: Invoice;
  @Field(() => Int) daysPastDue: number;
  @Field(() => Int) bucket: number;
  @Field(() => CollectionsHistory) collections: CollectionsHistory;
}
export const AgingInvoiceConnection = connectionType(AgingInvoice, 'AgingInvoice');
export type AgingInvoiceConnection = InstanceType<typeof AgingInvoiceConnection>;

@InputType()
export class FxRateInput {
  @Field({ description: 'ISO 4217 code of the foreign currency.' }) currency: string;
  @Field({ description: 'Units of the functional currency for one unit of `currency`, as a decimal string (up to 12 places).' }) rate: string;
  @Field(() => DateScalar, { nullable: true, description: 'From which day the rate applies; default today.' }) effectiveOn?: string | null;
}

@ObjectType()
export class FxRate {
  @Field() currency: string;
  @Field() functionalCurrency: string;
  @Field() rate: string;
  @Field(() => DateScalar) effectiveOn: string;
}

@ObjectType()
export class AgingSettings {
  @Field(() => [Int]) bucketEdges: number[];
  @Field(() => [AgingBucketDefinition]) buckets: AgingBucketDefinition[];
}

@InputType()
export class MetricsFilter {
  @Field(() => [ID], { nullable: true }) entityIds?: string[] | null;
  @Field(() => [String], { nullable: true }) segments?: string[] | null;
}

@ObjectType({ description: 'DSO as of a day, in the functional currency. See the field descriptions for the formulas.' })
export class DsoResult {
  @Field(() => DateScalar) asOf: string;
  @Field(() => Int) periodDays: number;
  @Field(() => Money) receivables: Money;
  @Field(() => Money) currentReceivables: Money;
  @Field(() => Money, { description: 'Credit sales: totals of invoices issued in the period, void ones excluded.' }) creditSales: Money;
  @Field(() => Float, { nullable: true, description: 'Receivables / credit sales of the period x days in the period.' }) standard: number | null;
  @Field(() => Float, { nullable: true, description: 'Receivables consumed by each month\'s credit sales walking back from asOf: full months add their days, the last one its share.' }) countback: number | null;
  @Field(() => Float, { nullable: true, description: 'Current receivables / credit sales x days.' }) bestPossible: number | null;
  @Field(() => Float, { nullable: true, description: 'Standard DSO minus best possible DSO.' }) averageDaysDelinquent: number | null;
  @Field(() => Float, { nullable: true }) percentCurrent: number | null;
  @Field(() => [String]) missingFxRates: string[];
}

@ObjectType({ description: 'Collection effectiveness over a period, in the functional currency.' })
export class CeiResult {
  @Field(() => DateScalar) from: string;
  @Field(() => DateScalar) to: string;
  @Field(() => Money, { nullable: true, description: 'Receivables in the snapshot of `from`; null when none was taken that day.' }) beginningReceivables: Money | null;
  @Field(() => Money) creditSales: Money;
  @Field(() => Money) endingReceivables: Money;
  @Field(() => Money) endingCurrentReceivables: Money;
  @Field(() => Float, { nullable: true, description: '(beginning + sales - ending total) / (beginning + sales - ending current) x 100.' }) cei: number | null;
  @Field(() => [String]) missingFxRates: string[];
}

@ObjectType()
export class MetricsGroup {
  @Field(() => ID, { nullable: true }) entityId: string | null;
  @Field(() => String, { nullable: true }) entityCode: string | null;
  @Field(() => String, { nullable: true }) segment: string | null;
}

@ObjectType()
export class MetricsPoint {
  @Field(() => DateScalar) date: string;
  @Field(() => Money) receivables: Money;
  @Field(() => Money) currentReceivables: Money;
  @Field(() => Money) pastDueReceivables: Money;
  @Field(() => Money) creditSales: Money;
  @Field(() => Float, { nullable: true }) dsoStandard: number | null;
  @Field(() => Float, { nullable: true }) dsoCountback: number | null;
  @Field(() => Float, { nullable: true }) averageDaysDelinquent: number | null;
  @Field(() => Float, { nullable: true, description: 'Over the period ending at `date`; null without a snapshot at its start.' }) cei: number | null;
  @Field(() => Float, { nullable: true }) percentCurrent: number | null;
}

@ObjectType()
export class MetricsSeries {
  @Field(() => MetricsGroup) group: MetricsGroup;
  @Field(() => [MetricsPoint]) points: MetricsPoint[];
}

@ObjectType()
export class CollectionsMetrics {
  @Field() currency: string;
  @Field(() => Int) periodDays: number;
  @Field(() => [MetricsSeries]) series: MetricsSeries[];
  @Field(() => [String]) missingFxRates: string[];
}
