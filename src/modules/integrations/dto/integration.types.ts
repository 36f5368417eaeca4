import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { ErpStream, WriteBackOperation } from '../../../../integrations/erp/erp-connector';
import { ConnectorErrorKind } from '../../../../integrations/core/connector-error';
import { ConnectionKind } from '../connector-registry';

registerEnumType(ErpStream, { name: 'SyncStream' });
registerEnumType(WriteBackOperation, { name: 'WriteBackOperation' });
registerEnumType(ConnectorErrorKind, { name: 'ConnectorErrorKind' });

export enum SyncRunStatus {
  QUEUED = 'QUEUED',
  RUNNING = 'RUNNING',
  RETRYING = 'RETRYING',
  SUCCEEDED = 'SUCCEEDED',
  FAILED = 'FAILED',
}
registerEnumType(SyncRunStatus, { name: 'SyncRunStatus' });

export enum WriteBackStatus {
  PENDING = 'PENDING',
  SENDING = 'SENDING',
  RETRYING = 'RETRYING',
  APPLIED = 'APPLIED',
  FAILED = 'FAILED',
}
registerEnumType(WriteBackStatus, { name: 'WriteBackStatus' });

@InputType()
export class CreateConnectionInput {
  @Field(() => ConnectionKind) kind: ConnectionKind;
  @Field() name: string;
  @Field(() => GraphQLJSONObject, { description: 'Kind-specific settings, e.g. { baseUrl, pageSize, timeoutMs, minIntervalMs, retryBaseMs, maxAttempts, defaultEntityCode }.' })
  config: Record<string, unknown>;
  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Secrets (API keys, tokens): encrypted at rest with AES-256-GCM and never returned.' })
  credentials?: Record<string, unknown> | null;
}

@ObjectType()
export class SyncCursor {
  @Field(() => ErpStream) stream: ErpStream;
  @Field(() => String, { nullable: true, description: 'Opaque position in the remote\'s change feed, stored with the page it ends.' }) cursor: string | null;
  @Field(() => Int) pages: number;
  @Field() updatedAt: Date;
}

@ObjectType({ description: 'A link to an ERP, CRM or bank feed. Credentials are write-only.' })
export class Connection {
  @Field(() => ID) id: string;
  @Field(() => ConnectionKind) kind: ConnectionKind;
  @Field() name: string;
  @Field(() => GraphQLJSONObject) config: Record<string, unknown>;
  @Field() hasCredentials: boolean;
  @Field() active: boolean;
  @Field(() => Date, { nullable: true }) lastSyncAt: Date | null;
  @Field() createdAt: Date;
  @Field(() => [SyncCursor]) cursors: SyncCursor[];
}

@ObjectType()
export class SyncStreamCount {
  @Field(() => ErpStream) stream: ErpStream;
  @Field(() => Int) created: number;
  @Field(() => Int) updated: number;
  @Field(() => Int) unchanged: number;
  @Field(() => Int) failed: number;
}

@ObjectType({ description: 'What went wrong in a sync: a remote failure (kind) or a record the book refused (VALIDATION, with its field).' })
export class SyncError {
  @Field() kind: string;
  @Field() message: string;
  @Field(() => ErpStream, { nullable: true }) stream: ErpStream | null;
  @Field(() => String, { nullable: true }) externalId: string | null;
  @Field(() => String, { nullable: true }) field: string | null;
  @Field(() => Int, { nullable: true }) attempt: number | null;
  @Field() at: string;
}

@ObjectType()
export class SyncRun {
  @Field(() => ID) id: string;
  @Field(() => ID) connectionId: string;
  @Field() trigger: string;
  @Field(() => SyncRunStatus) status: SyncRunStatus;
  @Field(() => Int, { description: 'Executions so far (the first plus retries).' }) attempts: number;
  @Field(() => Int) pages: number;
  @Field(() => [SyncStreamCount]) counts: SyncStreamCount[];
  @Field(() => [SyncError]) errors: SyncError[];
  @Field(() => Date, { nullable: true }) nextRetryAt: Date | null;
  @Field(() => Date, { nullable: true }) startedAt: Date | null;
  @Field(() => Date, { nullable: true }) finishedAt: Date | null;
  @Field(() => Int, { nullable: true }) durationMs: number | null;
  @Field() createdAt: Date;
}

@InputType({ description: 'An outcome to write back to the ERP, by Recoup ids. Idempotent by idempotencyKey (default: operation + subject + values).' })
export class RequestWriteBackInput {
  @Field(() => ID) connectionId: string;
  @Field(() => WriteBackOperation) operation: WriteBackOperation;
  @Field(() => ID, { nullable: true }) customerId?: string | null;
  @Field(() => ID, { nullable: true }) invoiceId?: string | null;
  @Field(() => Boolean, { nullable: true }) creditHold?: boolean | null;
  @Field(() => String, { nullable: true }) status?: string | null;
  @Field(() => String, { nullable: true }) note?: string | null;
  @Field(() => String, { nullable: true }) subject?: string | null;
  @Field(() => String, { nullable: true }) idempotencyKey?: string | null;
}

@ObjectType()
export class WriteBack {
  @Field(() => ID) id: string;
  @Field(() => ID) connectionId: string;
  @Field(() => WriteBackOperation) operation: WriteBackOperation;
  @Field() idempotencyKey: string;
  @Field(() => GraphQLJSONObject) payload: Record<string, unknown>;
  @Field(() => WriteBackStatus) status: WriteBackStatus;
  @Field(() => Int) attempts: number;
  @Field({ description: 'True when an earlier attempt ended without an answer and the target was read back before anything was sent again.' }) reconciled: boolean;
  @Field(() => String, { nullable: true }) lastError: string | null;
  @Field() createdAt: Date;
  @Field(() => Date, { nullable: true }) appliedAt: Date | null;
}
