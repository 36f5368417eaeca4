import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { bigintTransformer } from '../../platform/db/transformers';

export enum ArDocumentKind {
  CREDIT_MEMO = 'CREDIT_MEMO',
  DEBIT_MEMO = 'DEBIT_MEMO',
  ADJUSTMENT = 'ADJUSTMENT',
  WRITE_OFF = 'WRITE_OFF',
}
registerEnumType(ArDocumentKind, { name: 'ArDocumentKind' });

@ObjectType({ description: 'A credit memo, debit memo, adjustment or approved write-off; each posts a journal entry.' })
@Entity('ar_documents')
export class ArDocument {
  @Field(() => ID) @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'tenant_id', type: 'uuid' }) tenantId: string;
  @Field(() => ArDocumentKind) @Column({ type: 'varchar' }) kind: ArDocumentKind;
  @Field() @Column({ type: 'varchar' }) number: string;
  @Field(() => ID) @Column({ name: 'customer_id', type: 'uuid' }) customerId: string;
  @Field(() => ID, { nullable: true, description: 'The invoice adjusted or written off; for a debit memo, the invoice it raised.' }) @Column({ name: 'invoice_id', type: 'uuid', nullable: true }) invoiceId: string | null;
  @Field() @Column({ type: 'char', length: 3 }) currency: string;
  @Column({ name: 'amount_minor', type: 'bigint', transformer: bigintTransformer }) amountMinor: bigint;
  @Column({ name: 'open_minor', type: 'bigint', transformer: bigintTransformer }) openMinor: bigint;
  @Field(() => String, { nullable: true }) @Column({ type: 'varchar', nullable: true }) account: string | null;
  @Field() @Column({ type: 'varchar' }) reason: string;
  @Field() @Column({ name: 'created_by', type: 'varchar' }) createdBy: string;
  @Field() @Column({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}
