import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { dateTransformer } from '../../platform/db/transformers';
import { DateScalar } from '../../platform/graphql/scalars';

export enum PauseKind {
  PAUSE = 'PAUSE',
  EXCLUSION = 'EXCLUSION',
}
registerEnumType(PauseKind, { name: 'PauseKind', description: 'PAUSE stops outreach until a date; EXCLUSION takes the account out of automation (a person approves every action).' });

@ObjectType()
@Entity('dunning_pauses')
export class DunningPause {
  @Field(() => ID) @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'tenant_id', type: 'uuid' }) tenantId: string;
  @Field(() => ID) @Column({ name: 'customer_id', type: 'uuid' }) customerId: string;
  @Field(() => PauseKind) @Column({ type: 'varchar' }) kind: PauseKind;
  @Field() @Column() reason: string;
  @Field(() => DateScalar, { nullable: true }) @Column({ type: 'date', nullable: true, transformer: dateTransformer }) until: string | null;
  @Field() @Column({ name: 'created_by' }) createdBy: string;
  @Field() @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @Field(() => Date, { nullable: true }) @Column({ name: 'ended_at', type: 'timestamptz', nullable: true }) endedAt: Date | null;
  @Column({ name: 'ended_by', type: 'varchar', nullable: true }) endedBy: string | null;
}
