import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { bigintTransformer, dateTransformer } from '../../platform/db/transformers';
import { DateScalar } from '../../platform/graphql/scalars';

export enum PortalStatus {
  NONE = 'NONE',
  INVITED = 'INVITED',
  ACTIVE = 'ACTIVE',
  RESTRICTED = 'RESTRICTED',
}
registerEnumType(PortalStatus, { name: 'PortalStatus' });

@ObjectType({ description: 'A customer account (bill-to) as the ERP knows it.' })
@Entity('customers')
export class Customer {
  @Field(() => ID)
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'tenant_id', type: 'uuid' })
  tenantId: string;

  @Field({ description: 'The id in the system of record (ERP); unique in the tenant.' })
  @Column({ name: 'external_id' })
  externalId: string;

  @Column({ name: 'entity_id', type: 'uuid' })
  entityId: string;

  @Field()
  @Column()
  name: string;

  @Field(() => String, { nullable: true, description: 'e.g. enterprise, mid-market, smb.' })
  @Column({ type: 'varchar', nullable: true })
  segment: string | null;

  @Field(() => String, { nullable: true, description: 'e.g. strategic, standard.' })
  @Column({ type: 'varchar', nullable: true })
  tier: string | null;

  @Field(() => String, { nullable: true, description: 'ISO 3166-1 alpha-2.' })
  @Column({ type: 'char', length: 2, nullable: true })
  country: string | null;

  @Field({ description: 'BCP 47 language tag for messages, e.g. en, fr-CA.' })
  @Column({ default: 'en' })
  locale: string;

  @Field({ description: 'Default invoicing currency (ISO 4217).' })
  @Column({ type: 'char', length: 3 })
  currency: string;

  @Column({ name: 'owner_user_id', type: 'uuid', nullable: true })
  ownerUserId: string | null;

  @Column({ name: 'credit_limit_minor', type: 'bigint', nullable: true, transformer: bigintTransformer })
  creditLimitMinor: bigint | null;

  @Field()
  @Column({ name: 'credit_hold', default: false })
  creditHold: boolean;

  @Field(() => PortalStatus)
  @Column({ name: 'portal_status', type: 'varchar', default: PortalStatus.NONE })
  portalStatus: PortalStatus;

  @Field(() => DateScalar, { nullable: true, description: 'Next contract renewal.' })
  @Column({ name: 'renewal_date', type: 'date', nullable: true, transformer: dateTransformer })
  renewalDate: string | null;

  @Field()
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Field()
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
