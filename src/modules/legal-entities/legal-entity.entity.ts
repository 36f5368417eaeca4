import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { Field, ID, ObjectType } from 'type-graphql';

@ObjectType('Entity', { description: 'A legal entity of the tenant that issues invoices (a subsidiary, a country company).' })
@Entity('legal_entities')
export class LegalEntity {
  @Field(() => ID)
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'tenant_id', type: 'uuid' })
  tenantId: string;

  @Field({ description: 'Stable code, unique in the tenant, used by imports (e.g. US01).' })
  @Column()
  code: string;

  @Field()
  @Column()
  name: string;

  @Field({ description: 'The entity\'s book currency (ISO 4217).' })
  @Column({ type: 'char', length: 3 })
  currency: string;

  @Field(() => String, { nullable: true, description: 'ISO 3166-1 alpha-2.' })
  @Column({ type: 'char', length: 2, nullable: true })
  country: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
