import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** Append-only: the table's triggers refuse UPDATE, DELETE and TRUNCATE. */
@Entity('audit_events')
export class AuditEvent {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id: string;

  @Column({ name: 'tenant_id', type: 'uuid' })
  tenantId: string;

  @Column({ name: 'occurred_at', type: 'timestamptz', default: () => 'now()' })
  occurredAt: Date;

  @Column({ name: 'actor_kind', type: 'varchar' })
  actorKind: string;

  @Column({ name: 'actor_id', type: 'varchar' })
  actorId: string;

  @Column({ type: 'varchar' })
  action: string;

  @Column({ name: 'subject_type', type: 'varchar' })
  subjectType: string;

  @Column({ name: 'subject_id', type: 'varchar' })
  subjectId: string;

  @Column({ type: 'jsonb', default: {} })
  data: Record<string, unknown>;

  @Column({ name: 'request_id', type: 'varchar', nullable: true })
  requestId: string | null;
}
