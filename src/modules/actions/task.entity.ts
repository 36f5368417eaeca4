import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { Field, ID, Int, ObjectType } from 'type-graphql';
import { dateTransformer } from '../../platform/db/transformers';
import { DateScalar } from '../../platform/graphql/scalars';

/** A worklist item for a person: from call steps, tier escalations and failed sends. */
@ObjectType()
@Entity('tasks')
export class Task {
  @Field(() => ID) @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'tenant_id', type: 'uuid' }) tenantId: string;
  @Field(() => ID) @Column({ name: 'customer_id', type: 'uuid' }) customerId: string;
  @Field(() => ID, { nullable: true }) @Column({ name: 'invoice_id', type: 'uuid', nullable: true }) invoiceId: string | null;
  @Field(() => ID, { nullable: true }) @Column({ name: 'owner_user_id', type: 'uuid', nullable: true }) ownerUserId: string | null;
  @Field() @Column({ name: 'reason_code' }) reasonCode: string;
  @Field() @Column({ name: 'next_action' }) nextAction: string;
  @Field(() => Int) @Column({ type: 'int', default: 0 }) priority: number;
  @Field(() => DateScalar, { nullable: true }) @Column({ name: 'due_date', type: 'date', nullable: true, transformer: dateTransformer }) dueDate: string | null;
  @Field() @Column({ default: 'OPEN' }) status: string;
  @Field(() => ID, { nullable: true }) @Column({ name: 'source_action_id', type: 'uuid', nullable: true }) sourceActionId: string | null;
  @Field() @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
