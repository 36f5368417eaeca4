import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import type { PolicyDefinition } from './policy-definition';

export enum PolicyVersionStatus {
  DRAFT = 'DRAFT',
  PUBLISHED = 'PUBLISHED',
  RETIRED = 'RETIRED',
}
registerEnumType(PolicyVersionStatus, { name: 'PolicyVersionStatus', description: 'DRAFT (editable) → PUBLISHED (immutable, live from its effective date) → RETIRED (superseded).' });

export enum AssignmentScope {
  GLOBAL = 'GLOBAL',
  SEGMENT = 'SEGMENT',
  TIER = 'TIER',
  COUNTRY = 'COUNTRY',
  CUSTOMER = 'CUSTOMER',
}
registerEnumType(AssignmentScope, { name: 'AssignmentScope', description: 'Most specific wins: CUSTOMER > COUNTRY > TIER > SEGMENT > GLOBAL.' });

@ObjectType({ description: 'A dunning policy: a named sequence of steps and escalation tiers, with immutable versions.' })
@Entity('dunning_policies')
export class DunningPolicy {
  @Field(() => ID) @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'tenant_id', type: 'uuid' }) tenantId: string;
  @Field() @Column() name: string;
  @Field(() => String, { nullable: true }) @Column({ type: 'varchar', nullable: true }) description: string | null;
  @Field() @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}

@ObjectType({ description: 'One version of a policy. Published versions never change.' })
@Entity('dunning_policy_versions')
export class PolicyVersion {
  @Field(() => ID) @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'tenant_id', type: 'uuid' }) tenantId: string;
  @Field(() => ID) @Column({ name: 'policy_id', type: 'uuid' }) policyId: string;
  @Field(() => Int) @Column({ type: 'int' }) version: number;
  @Field(() => PolicyVersionStatus) @Column({ type: 'varchar' }) status: PolicyVersionStatus;
  @Field(() => GraphQLJSONObject, { description: 'Steps, courtesy path, tiers: the shape of `dunningPolicyJsonSchema`.' })
  @Column({ type: 'jsonb' })
  definition: PolicyDefinition;
  @Field() @Column({ name: 'created_by' }) createdBy: string;
  @Field() @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}

@ObjectType({ description: 'Binds a policy to all customers, a segment, a tier, a country or one customer.' })
@Entity('policy_assignments')
export class PolicyAssignment {
  @Field(() => ID) @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'tenant_id', type: 'uuid' }) tenantId: string;
  @Field(() => ID) @Column({ name: 'policy_id', type: 'uuid' }) policyId: string;
  @Field(() => AssignmentScope) @Column({ type: 'varchar' }) scope: AssignmentScope;
  @Field({ description: 'Segment, tier, country code or customer id; empty for GLOBAL.' }) @Column({ name: 'scope_value' }) scopeValue: string;
  @Column({ name: 'created_by' }) createdBy: string;
  @Field() @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}
