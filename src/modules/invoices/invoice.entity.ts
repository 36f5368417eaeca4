import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { bigintTransformer, dateTransformer } from '../../platform/db/transformers';
import { DateScalar } from '../../platform/graphql/scalars';
import { PaymentTermsKind } from './payment-terms';

export enum InvoiceStatus {
  OPEN = 'OPEN',
  PAID = 'PAID',
  VOID = 'VOID',
  WRITTEN_OFF = 'WRITTEN_OFF',
}
registerEnumType(InvoiceStatus, { name: 'InvoiceStatus' });

export enum BillingModel {
  SUBSCRIPTION = 'SUBSCRIPTION',
  USAGE = 'USAGE',
  SERVICES = 'SERVICES',
}
registerEnumType(BillingModel, { name: 'BillingModel' });

@ObjectType({ description: 'An invoice as the ERP issued it, with what is still owed.' })
@Entity('invoices')
export class Invoice {
  @Field(() => ID)
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'tenant_id', type: 'uuid' })
  tenantId: string;

  @Field({ description: 'The id in the system of record; unique in the tenant.' })
  @Column({ name: 'external_id' })
  externalId: string;

  @Column({ name: 'entity_id', type: 'uuid' })
  entityId: string;

  @Column({ name: 'customer_id', type: 'uuid' })
  customerId: string;

  @Field({ description: 'The number printed on the invoice, e.g. INV-1042.' })
  @Column()
  number: string;

  @Field(() => DateScalar)
  @Column({ name: 'issue_date', type: 'date', transformer: dateTransformer })
  issueDate: string;

  @Column({ name: 'terms_kind', type: 'varchar' })
  termsKind: PaymentTermsKind;

  @Column({ name: 'terms_days', type: 'int', default: 0 })
  termsDays: number;

  @Field(() => DateScalar, { description: 'From the source, or given by the payment terms.' })
  @Column({ name: 'due_date', type: 'date', transformer: dateTransformer })
  dueDate: string;

  @Field(() => BillingModel)
  @Column({ name: 'billing_model', type: 'varchar', default: BillingModel.SERVICES })
  billingModel: BillingModel;

  @Field({ description: 'Usage still being reconciled: collections wait.' })
  @Column({ name: 'reconciliation_hold', default: false })
  reconciliationHold: boolean;

  @Field()
  @Column({ type: 'char', length: 3 })
  currency: string;

  @Column({ name: 'total_minor', type: 'bigint', transformer: bigintTransformer })
  totalMinor: bigint;

  @Column({ name: 'open_balance_minor', type: 'bigint', transformer: bigintTransformer })
  openBalanceMinor: bigint;

  @Field(() => InvoiceStatus)
  @Column({ type: 'varchar', default: InvoiceStatus.OPEN })
  status: InvoiceStatus;

  @Field(() => String, { nullable: true })
  @Column({ name: 'po_number', type: 'varchar', nullable: true })
  poNumber: string | null;

  @Field(() => String, { nullable: true })
  @Column({ name: 'void_reason', type: 'varchar', nullable: true })
  voidReason: string | null;

  @Field(() => Date, { nullable: true })
  @Column({ name: 'voided_at', type: 'timestamptz', nullable: true })
  voidedAt: Date | null;

  @Field()
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Field()
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;

  /** The `asOf` of the list query that returned this invoice, so its computed fields agree with the filter. */
  listAsOf?: string;
}
