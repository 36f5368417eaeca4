import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { MessageChannel } from './outreach.enums';

/** A tenant's own version of a message template; it wins over the file of the same key, locale and channel. */
@Entity('message_templates')
export class TenantMessageTemplate {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'tenant_id', type: 'uuid' })
  tenantId: string;

  @Column({ type: 'varchar' })
  key: string;

  @Column({ type: 'varchar' })
  locale: string;

  @Column({ type: 'varchar' })
  channel: MessageChannel;

  @Column({ type: 'text', nullable: true })
  subject: string | null;

  @Column({ type: 'text' })
  body: string;

  /** 1 on the first save, +1 on each later save. */
  @Column({ type: 'int' })
  version: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;

  /** Actor id (API key id, or a system actor's name) of the last save. */
  @Column({ name: 'updated_by', type: 'varchar' })
  updatedBy: string;
}
