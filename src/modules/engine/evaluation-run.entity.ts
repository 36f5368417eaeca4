import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { Field, ID, Int, ObjectType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { dateTransformer } from '../../platform/db/transformers';
import { DateScalar } from '../../platform/graphql/scalars';

@ObjectType({ description: 'One evaluation of the book (daily, on an event, or by hand), with its outcome counts.' })
@Entity('evaluation_runs')
export class EvaluationRun {
  @Field(() => ID) @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'tenant_id', type: 'uuid' }) tenantId: string;
  @Field(() => DateScalar) @Column({ name: 'as_of', type: 'date', transformer: dateTransformer }) asOf: string;
  @Field() @Column() trigger: string;
  @Field() @Column() status: string;
  @Field(() => Int) @Column({ type: 'int' }) customers: number;
  @Field(() => Int) @Column({ type: 'int' }) invoices: number;
  @Field(() => Int, { description: 'New actions written (reruns write none).' }) @Column({ name: 'actions_created', type: 'int' }) actionsCreated: number;
  @Field(() => GraphQLJSONObject, { description: 'Counts by outcome: decisions by step and tier, suppressions by reason.' })
  @Column({ type: 'jsonb' })
  outcomes: Record<string, number>;
  @Column({ name: 'pending_batches', type: 'int' }) pendingBatches: number;
  @Field(() => String, { nullable: true }) @Column({ type: 'varchar', nullable: true }) error: string | null;
  @Field() @Column({ name: 'started_at', type: 'timestamptz' }) startedAt: Date;
  @Field(() => Date, { nullable: true }) @Column({ name: 'finished_at', type: 'timestamptz', nullable: true }) finishedAt: Date | null;
  @Field(() => Int, { nullable: true }) @Column({ name: 'duration_ms', type: 'int', nullable: true }) durationMs: number | null;
}
