import { Arg, Authorized, ID, Int, Mutation, Query, Resolver } from 'type-graphql';
import { Role } from '../../platform/auth/roles';
import type { RequestContext } from '../../platform/context';
import { notFound } from '../../platform/errors';
import { Ctx } from '../../platform/graphql/gql-context';
import type { BankImportService } from './bank-import.service';
import type { ConnectionService } from './connection.service';
import { ImportBankStatementInput, ImportBankStatementPayload, ImportFileInput, ImportFilePayload } from './dto/import.types';
import { Connection, CreateConnectionInput, RequestWriteBackInput, SyncRun, WriteBack } from './dto/integration.types';
import type { FileImportService } from './file-import.service';
import type { SyncService } from './sync.service';
import type { WriteBackService } from './writeback.service';

@Resolver()
export class IntegrationResolver {
  constructor(
    private readonly connectionService: ConnectionService,
    private readonly sync: SyncService,
    private readonly outbox: WriteBackService,
    private readonly files: FileImportService,
    private readonly bank: BankImportService,
  ) {}

  @Authorized(Role.ADMIN)
  @Mutation(() => Connection, { description: 'Connect an ERP (CRM, bank feed): config is validated, credentials are encrypted at rest and never returned.' })
  createConnection(@Ctx() ctx: RequestContext, @Arg('input') input: CreateConnectionInput): Promise<Connection> {
    return this.connectionService.create(ctx, input);
  }

  @Authorized(Role.VIEWER)
  @Query(() => [Connection])
  connections(@Ctx() ctx: RequestContext): Promise<Connection[]> {
    return this.connectionService.list(ctx);
  }

  @Authorized(Role.MANAGER)
  @Mutation(() => SyncRun, { description: 'Pull now from the stored cursors (a BullMQ job); the run already queued or running when there is one. fromStart: forget the cursors and pull everything again (unchanged records are not rewritten).' })
  syncNow(@Ctx() ctx: RequestContext, @Arg('connectionId', () => ID) connectionId: string, @Arg('fromStart', { defaultValue: false }) fromStart: boolean): Promise<SyncRun> {
    return this.sync.requestSync(ctx, connectionId, { fromStart, trigger: 'MANUAL' });
  }

  @Authorized(Role.VIEWER)
  @Query(() => [SyncRun], { description: 'Sync runs of a connection, newest first: counts per stream, errors, duration.' })
  async syncRuns(@Ctx() ctx: RequestContext, @Arg('connectionId', () => ID) connectionId: string, @Arg('first', () => Int, { defaultValue: 20 }) first: number): Promise<SyncRun[]> {
    if (!(await this.connectionService.row(ctx, connectionId))) throw notFound('Connection', connectionId, 'connectionId');
    return this.sync.runs(ctx, connectionId, first);
  }

  @Authorized(Role.VIEWER)
  @Query(() => SyncRun, { nullable: true })
  syncRun(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string): Promise<SyncRun | null> {
    return this.sync.run(ctx, id);
  }

  @Authorized(Role.MANAGER)
  @Mutation(() => WriteBack, { description: 'Queue an outcome for the ERP (credit hold, invoice status, note, activity); sent once per idempotency key, reconciled with the ERP before any retry.' })
  requestWriteBack(@Ctx() ctx: RequestContext, @Arg('input') input: RequestWriteBackInput): Promise<WriteBack> {
    return this.outbox.request(ctx, input);
  }

  @Authorized(Role.VIEWER)
  @Query(() => [WriteBack])
  async writeBacks(@Ctx() ctx: RequestContext, @Arg('connectionId', () => ID) connectionId: string, @Arg('first', () => Int, { defaultValue: 50 }) first: number): Promise<WriteBack[]> {
    if (!(await this.connectionService.row(ctx, connectionId))) throw notFound('Connection', connectionId, 'connectionId');
    return this.outbox.list(ctx, connectionId, first);
  }

  @Authorized(Role.MANAGER)
  @Mutation(() => ImportFilePayload, { description: 'Import a CSV or XLSX file of customers, invoices (aging extract) or payments with a column mapping; dryRun reports errors by row and field and keeps nothing.' })
  importFile(@Ctx() ctx: RequestContext, @Arg('input') input: ImportFileInput): Promise<ImportFilePayload> {
    return this.files.import(ctx, input);
  }

  @Authorized(Role.MANAGER)
  @Mutation(() => ImportBankStatementPayload, { description: 'Import a camt.053 or BAI2 statement: credits become payments (idempotent by bank reference), returns reverse the original payment. A cut-off file imports nothing.' })
  importBankStatement(@Ctx() ctx: RequestContext, @Arg('input') input: ImportBankStatementInput): Promise<ImportBankStatementPayload> {
    return this.bank.import(ctx, input);
  }
}
