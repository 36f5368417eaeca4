import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';

export enum ContactRole {
  BILLING = 'BILLING',
  AP = 'AP',
  PRIMARY = 'PRIMARY',
  EXECUTIVE = 'EXECUTIVE',
  OTHER = 'OTHER',
}
registerEnumType(ContactRole, { name: 'ContactRole' });

export enum Channel {
  EMAIL = 'EMAIL',
  SMS = 'SMS',
  PHONE = 'PHONE',
  PORTAL = 'PORTAL',
}
registerEnumType(Channel, { name: 'Channel', description: 'How a contact prefers to be reached.' });

@ObjectType()
@Entity('contacts')
export class Contact {
  @Field(() => ID)
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'tenant_id', type: 'uuid' })
  tenantId: string;

  @Column({ name: 'customer_id', type: 'uuid' })
  customerId: string;

  @Field()
  @Column()
  name: string;

  @Field(() => String, { nullable: true })
  @Column({ type: 'varchar', nullable: true })
  email: string | null;

  @Field(() => String, { nullable: true, description: 'E.164, e.g. +14155550100.' })
  @Column({ type: 'varchar', nullable: true })
  phone: string | null;

  @Field(() => ContactRole)
  @Column({ type: 'varchar', default: ContactRole.BILLING })
  role: ContactRole;

  @Field()
  @Column({ name: 'is_primary', default: false })
  isPrimary: boolean;

  @Field(() => Channel)
  @Column({ name: 'channel_preference', type: 'varchar', default: Channel.EMAIL })
  channelPreference: Channel;

  @Column({ type: 'int', default: 0 })
  position: number;
}
