import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { Field, ID, ObjectType } from 'type-graphql';

@ObjectType({ description: 'An isolated AR book: its own customers, invoices, keys and settings.' })
@Entity('tenants')
export class Tenant {
  @Field(() => ID)
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Field()
  @Column()
  name: string;

  @Field({ description: 'IANA time zone; days past due are counted in it.' })
  @Column()
  timezone: string;

  @Field({ description: 'ISO 4217 code that reports convert into.' })
  @Column({ name: 'functional_currency', type: 'char', length: 3 })
  functionalCurrency: string;

  @Column({ name: 'parent_tenant_id', type: 'uuid', nullable: true })
  parentTenantId: string | null;

  @Field(() => Date, { nullable: true, description: 'When the nightly maintenance job last ran for this tenant.' })
  @Column({ name: 'last_heartbeat_at', type: 'timestamptz', nullable: true })
  lastHeartbeatAt: Date | null;

  @Field()
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
