import { inTransaction, type RequestContext } from '../../platform/context';
import { AppError, badInput, ErrorCode, notFound } from '../../platform/errors';
import type { ErpConnector } from '../../../integrations/erp/erp-connector';
import type { AuditService } from '../audit/audit.service';
import { ConnectionKind, connectionConfigSchemas, connectionCredentialSchemas, erpConnectorFor, type ConnectionConfig } from './connector-registry';
import type { Connection, CreateConnectionInput, SyncCursor } from './dto/integration.types';
import { IntegrationErrors } from './integration.errors';
import type { SecretBox } from './secret-box';

export interface ConnectionRow {
  id: string;
  tenant_id: string;
  kind: ConnectionKind;
  name: string;
  config: ConnectionConfig;
  credentials_enc: string | null;
  active: boolean;
  last_sync_at: Date | null;
  created_at: Date;
}

const isUuid = (s: string) => /^[0-9a-f-]{36}$/i.test(s);

/** Connections to remote systems: validated config, credentials sealed at rest, never returned. */
export class ConnectionService {
  constructor(
    private readonly box: SecretBox,
    private readonly audit: AuditService,
  ) {}

  async create(ctx: RequestContext, input: CreateConnectionInput): Promise<Connection> {
    const name = input.name?.trim() ?? '';
    if (!name || name.length > 200) throw badInput('name', 'a name of 1 to 200 characters is required', IntegrationErrors.REQUIRED);
    const cfgSchema = connectionConfigSchemas[input.kind];
    if (!cfgSchema) throw badInput('kind', `unknown connection kind ${input.kind}`, IntegrationErrors.UNKNOWN_KIND);
    const cfg = cfgSchema.safeParse(input.config ?? {});
    if (!cfg.success) {
      const i = cfg.error.issues[0];
      throw badInput(`config.${i.path.join('.') || '(root)'}`, i.message, IntegrationErrors.INVALID_CONFIG);
    }
    const creds = connectionCredentialSchemas[input.kind].safeParse(input.credentials ?? {});
    if (!creds.success) {
      const i = creds.error.issues[0];
      throw badInput(`credentials.${i.path.join('.') || '(root)'}`, i.message, IntegrationErrors.INVALID_CREDENTIALS);
    }
    const sealed = Object.keys(creds.data).length ? this.box.seal(JSON.stringify(creds.data), ctx.tenantId) : null;
    const id = await inTransaction(ctx, async (tx) => {
      const rows: { id: string }[] = await tx.em.query(
        `INSERT INTO integration_connections (tenant_id, kind, name, config, credentials_enc) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (tenant_id, name) DO NOTHING RETURNING id`,
        [ctx.tenantId, input.kind, name, JSON.stringify(cfg.data), sealed],
      );
      if (!rows.length) throw new AppError(ErrorCode.CONFLICT, `a connection named "${name}" exists already`, { field: 'name', reason: IntegrationErrors.DUPLICATE_NAME });
      await this.audit.record(tx, { action: 'connection.created', subjectType: 'Connection', subjectId: rows[0].id, data: { kind: input.kind, name, config: cfg.data, credentials: Object.keys(creds.data) } });
      return rows[0].id;
    });
    return (await this.get(ctx, id))!;
  }

  async list(ctx: RequestContext): Promise<Connection[]> {
    const rows: ConnectionRow[] = await ctx.em.query(`SELECT * FROM integration_connections WHERE tenant_id = $1 ORDER BY created_at, id`, [ctx.tenantId]);
    const cursors = await this.cursors(ctx, rows.map((r) => r.id));
    return rows.map((r) => this.toGql(r, cursors.get(r.id) ?? []));
  }

  async get(ctx: RequestContext, id: string): Promise<Connection | null> {
    const row = await this.row(ctx, id);
    return row ? this.toGql(row, (await this.cursors(ctx, [id])).get(id) ?? []) : null;
  }

  async row(ctx: RequestContext, id: string): Promise<ConnectionRow | null> {
    if (!isUuid(id)) return null;
    const [row]: ConnectionRow[] = await ctx.em.query(`SELECT * FROM integration_connections WHERE tenant_id = $1 AND id = $2`, [ctx.tenantId, id]);
    return row ?? null;
  }

  async require(ctx: RequestContext, id: string, field = 'connectionId'): Promise<ConnectionRow> {
    const row = await this.row(ctx, id);
    if (!row) throw notFound('Connection', id, field);
    if (!row.active) throw badInput(field, 'this connection is not active', IntegrationErrors.CONNECTION_INACTIVE);
    return row;
  }

  /**
   * The connector with its credentials opened: only ever held in memory for one call. With `ctx`
   * (outside any transaction), credentials the connector renews (QuickBooks' refreshed OAuth
   * tokens) are sealed and stored at once, and re-read before a refresh another worker made.
   */
  erp(row: ConnectionRow, ctx?: RequestContext): ErpConnector {
    const creds = row.credentials_enc ? (JSON.parse(this.box.open(row.credentials_enc, row.tenant_id)) as Record<string, unknown>) : {};
    const store = ctx
      ? {
          load: async () => {
            const [r]: { credentials_enc: string | null }[] = await ctx.em.query(`SELECT credentials_enc FROM integration_connections WHERE tenant_id = $1 AND id = $2`, [row.tenant_id, row.id]);
            return r?.credentials_enc ? (JSON.parse(this.box.open(r.credentials_enc, row.tenant_id)) as Record<string, string>) : null;
          },
          save: async (renewed: object) => {
            await ctx.em.query(`UPDATE integration_connections SET credentials_enc = $3, updated_at = now() WHERE tenant_id = $1 AND id = $2`, [row.tenant_id, row.id, this.box.seal(JSON.stringify(renewed), row.tenant_id)]);
          },
        }
      : null;
    return erpConnectorFor(row.kind, connectionConfigSchemas[row.kind].parse(row.config), creds, store);
  }

  private async cursors(ctx: RequestContext, ids: string[]): Promise<Map<string, SyncCursor[]>> {
    const out = new Map<string, SyncCursor[]>();
    if (!ids.length) return out;
    const rows: { connection_id: string; stream: string; cursor: string | null; pages: number; updated_at: Date }[] = await ctx.em.query(
      `SELECT connection_id, stream, cursor, pages, updated_at FROM sync_cursors WHERE tenant_id = $1 AND connection_id = ANY($2::uuid[]) ORDER BY stream`,
      [ctx.tenantId, ids],
    );
    for (const r of rows) out.set(r.connection_id, [...(out.get(r.connection_id) ?? []), { stream: r.stream as SyncCursor['stream'], cursor: r.cursor, pages: r.pages, updatedAt: r.updated_at }]);
    return out;
  }

  private toGql(r: ConnectionRow, cursors: SyncCursor[]): Connection {
    return { id: r.id, kind: r.kind, name: r.name, config: r.config, hasCredentials: !!r.credentials_enc, active: r.active, lastSyncAt: r.last_sync_at, createdAt: r.created_at, cursors };
  }
}
