import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { Field, ID, ObjectType } from 'type-graphql';
import { MessageChannel, MessageTransport } from './outreach.enums';

/**
 * One message as it was sent (or kept in the mailbox): written in the sender's transaction,
 * so a send whose transaction rolls back leaves no row. The customer's outbound timeline.
 */
@ObjectType({ description: 'A message Recoup sent or kept in its mailbox, exactly as rendered.' })
@Entity('outbound_messages')
export class OutboundMessage {
  @Field(() => ID)
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'tenant_id', type: 'uuid' })
  tenantId: string;

  @Field(() => ID, { nullable: true, description: 'The dunning action that sent it, if any.' })
  @Column({ name: 'action_id', type: 'uuid', nullable: true })
  actionId: string | null;

  @Field(() => ID, { nullable: true })
  @Column({ name: 'customer_id', type: 'uuid', nullable: true })
  customerId: string | null;

  @Field(() => MessageChannel)
  @Column({ type: 'varchar' })
  channel: MessageChannel;

  @Field(() => MessageTransport)
  @Column({ type: 'varchar' })
  transport: MessageTransport;

  @Field(() => [String], { description: 'Email addresses, phone numbers (E.164), or nothing for a portal notice.' })
  @Column({ name: 'to_addresses', type: 'text', array: true })
  toAddresses: string[];

  @Field(() => String, { nullable: true })
  @Column({ name: 'from_address', type: 'text', nullable: true })
  fromAddress: string | null;

  @Field(() => String, { nullable: true })
  @Column({ type: 'text', nullable: true })
  subject: string | null;

  @Field({ description: 'HTML for EMAIL and INTERNAL, plain text for SMS and PORTAL.' })
  @Column({ type: 'text' })
  body: string;

  @Field(() => String, { nullable: true, description: 'The provider\'s id: the Message-ID for SMTP, the SMS provider\'s message id.' })
  @Column({ name: 'provider_message_id', type: 'text', nullable: true })
  providerMessageId: string | null;

  @Field()
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
