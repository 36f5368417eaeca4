import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { bigintTransformer, dateTransformer } from '../../platform/db/transformers';
import { DateScalar } from '../../platform/graphql/scalars';

export enum PromiseStatus {
  OPEN = 'OPEN',
  KEPT = 'KEPT',
  PARTIALLY_KEPT = 'PARTIALLY_KEPT',
  BROKEN = 'BROKEN',
}
registerEnumType(PromiseStatus, { name: 'PromiseStatus', description: 'OPEN until the promised date plus the grace period; then KEPT, PARTIALLY_KEPT or BROKEN.' });

export enum PromiseChannel {
  CALL = 'CALL',
  EMAIL = 'EMAIL',
  SMS = 'SMS',
  PORTAL = 'PORTAL',
  LETTER = 'LETTER',
  IN_PERSON = 'IN_PERSON',
}
registerEnumType(PromiseChannel, { name: 'PromiseChannel', description: 'How the promise was made.' });

/** A customer's promise to pay an amount on covered invoices by a date; dunning on them waits until the date plus grace. */
@ObjectType('PromiseToPay')
@Entity('promises_to_pay')
export class PromiseToPay {
  @Field(() => ID) @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'tenant_id', type: 'uuid' }) tenantId: string;
  @Field(() => ID) @Column({ name: 'customer_id', type: 'uuid' }) customerId: string;
  @Field(() => [ID]) @Column({ name: 'invoice_ids', type: 'uuid', array: true }) invoiceIds: string[];
  @Column({ name: 'amount_minor', type: 'bigint', transformer: bigintTransformer }) amountMinor: bigint;
  @Column({ type: 'char', length: 3 }) currency: string;
  @Field(() => DateScalar) @Column({ name: 'promised_date', type: 'date', transformer: dateTransformer }) promisedDate: string;
  @Field(() => Int) @Column({ name: 'grace_days', type: 'int' }) graceDays: number;
  @Field(() => PromiseStatus) @Column({ type: 'varchar' }) status: PromiseStatus;
  @Field(() => ID, { nullable: true }) @Column({ name: 'contact_id', type: 'uuid', nullable: true }) contactId: string | null;
  @Field(() => PromiseChannel, { nullable: true }) @Column({ type: 'varchar', nullable: true }) channel: PromiseChannel | null;
  @Field(() => DateScalar, { nullable: true, description: 'The day the promise was made.' }) @Column({ name: 'made_on', type: 'date', nullable: true, transformer: dateTransformer }) madeOn: string | null;
  @Field(() => String, { nullable: true }) @Column({ type: 'varchar', nullable: true }) note: string | null;
  @Column({ name: 'received_minor', type: 'bigint', nullable: true, transformer: bigintTransformer }) receivedMinor: bigint | null;
  @Field(() => DateScalar, { nullable: true }) @Column({ name: 'resolved_on', type: 'date', nullable: true, transformer: dateTransformer }) resolvedOn: string | null;
  @Field() @Column({ name: 'created_by', type: 'varchar' }) createdBy: string;
  @Field() @Column({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @Field(() => Date, { nullable: true }) @Column({ name: 'resolved_at', type: 'timestamptz', nullable: true }) resolvedAt: Date | null;
}
