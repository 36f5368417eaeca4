import { Column, Entity, PrimaryColumn } from 'typeorm';
import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { bigintTransformer, dateTransformer } from '../../platform/db/transformers';
import { DateScalar } from '../../platform/graphql/scalars';

/** The chart of accounts the receivables ledger posts to. */
export enum LedgerAccount {
  AR = 'AR',
  CASH = 'CASH',
  UNAPPLIED_CASH = 'UNAPPLIED_CASH',
  CUSTOMER_CREDIT = 'CUSTOMER_CREDIT',
  WRITE_OFF_EXPENSE = 'WRITE_OFF_EXPENSE',
  DISCOUNTS = 'DISCOUNTS',
  SALES_RETURNS = 'SALES_RETURNS',
  ADJUSTMENTS = 'ADJUSTMENTS',
  REVENUE = 'REVENUE',
  /** Bridges an allocation across currencies: every entry stays in one currency (ADR 013). */
  CURRENCY_EXCHANGE = 'CURRENCY_EXCHANGE',
}
registerEnumType(LedgerAccount, { name: 'LedgerAccount' });

export enum JournalKind {
  PAYMENT_RECEIVED = 'PAYMENT_RECEIVED',
  PAYMENT_APPLIED = 'PAYMENT_APPLIED',
  PAYMENT_REVERSED = 'PAYMENT_REVERSED',
  CREDIT_MEMO = 'CREDIT_MEMO',
  CREDIT_MEMO_APPLIED = 'CREDIT_MEMO_APPLIED',
  DEBIT_MEMO = 'DEBIT_MEMO',
  ADJUSTMENT = 'ADJUSTMENT',
  WRITE_OFF = 'WRITE_OFF',
}
registerEnumType(JournalKind, { name: 'JournalKind' });

@ObjectType({ description: 'One balanced double-entry posting: its lines\' debits equal their credits (enforced by the database).' })
@Entity('journal_entries')
export class JournalEntry {
  @Field(() => ID) @PrimaryColumn('uuid') id: string;
  @Column({ name: 'tenant_id', type: 'uuid' }) tenantId: string;
  @Field(() => String, { description: 'Sequence number, in posting order.' }) @Column({ name: 'entry_no', type: 'bigint', insert: false, update: false }) entryNo: string;
  @Field(() => DateScalar) @Column({ name: 'posted_on', type: 'date', transformer: dateTransformer }) postedOn: string;
  @Field(() => JournalKind) @Column({ type: 'varchar' }) kind: JournalKind;
  @Field() @Column({ name: 'source_type', type: 'varchar' }) sourceType: string;
  @Field(() => ID) @Column({ name: 'source_id', type: 'uuid' }) sourceId: string;
  @Field() @Column({ type: 'char', length: 3 }) currency: string;
  @Field(() => String, { nullable: true }) @Column({ type: 'varchar', nullable: true }) memo: string | null;
  @Field() @Column({ name: 'created_by', type: 'varchar' }) createdBy: string;
  @Field() @Column({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}

@ObjectType()
@Entity('journal_lines')
export class JournalLine {
  @PrimaryColumn({ type: 'bigint', insert: false, update: false }) id: string;
  @Column({ name: 'tenant_id', type: 'uuid' }) tenantId: string;
  @Column({ name: 'entry_id', type: 'uuid' }) entryId: string;
  @Field(() => LedgerAccount) @Column({ type: 'varchar' }) account: LedgerAccount;
  @Column({ name: 'debit_minor', type: 'bigint', transformer: bigintTransformer }) debitMinor: bigint;
  @Column({ name: 'credit_minor', type: 'bigint', transformer: bigintTransformer }) creditMinor: bigint;
  @Field(() => ID, { nullable: true }) @Column({ name: 'customer_id', type: 'uuid', nullable: true }) customerId: string | null;
  @Field(() => ID, { nullable: true }) @Column({ name: 'invoice_id', type: 'uuid', nullable: true }) invoiceId: string | null;
  /** Filled by the service for the Money fields (lines carry no currency of their own). */
  currency?: string;
}
