import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { bigintTransformer } from '../../platform/db/transformers';
import { SuggestionReason } from './allocation-strategies';

registerEnumType(SuggestionReason, { name: 'SuggestionReason' });

@ObjectType({ description: 'A ranked guess where unapplied cash belongs, for a person to accept.' })
@Entity('payment_suggestions')
export class PaymentSuggestion {
  @Field(() => ID) @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'tenant_id', type: 'uuid' }) tenantId: string;
  @Field(() => ID) @Column({ name: 'payment_id', type: 'uuid' }) paymentId: string;
  @Field(() => Int) @Column({ type: 'int' }) rank: number;
  @Field(() => [ID]) @Column({ name: 'invoice_ids', type: 'uuid', array: true }) invoiceIds: string[];
  @Column({ name: 'amount_minor', type: 'bigint', transformer: bigintTransformer }) amountMinor: bigint;
  @Field(() => Int, { description: '0 to 100.' }) @Column({ type: 'int' }) score: number;
  @Field(() => SuggestionReason) @Column({ type: 'varchar' }) reason: SuggestionReason;
  @Field() @Column({ type: 'varchar' }) detail: string;
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}
