import { In } from 'typeorm';
import type DataLoader from 'dataloader';
import { byIdLoader } from '../../platform/db/loaders';
import { inTransaction, type RequestContext } from '../../platform/context';
import { badInput } from '../../platform/errors';
import { isCurrency } from '../../platform/money/money';
import type { AuditService } from '../audit/audit.service';
import { LegalEntity } from './legal-entity.entity';

export interface LegalEntityFields {
  code: string;
  name: string;
  currency: string;
  country?: string | null;
}

const COUNTRY = /^[A-Z]{2}$/;

export class LegalEntityService {
  constructor(private readonly audit: AuditService) {}

  /** Idempotent by code; the whole call is one transaction. */
  async upsert(ctx: RequestContext, inputs: LegalEntityFields[]): Promise<LegalEntity[]> {
    if (inputs.length > 100) throw badInput('input', 'at most 100 entities per call');
    inputs.forEach((e, i) => {
      if (!/^[A-Za-z0-9_.-]{1,64}$/.test(e.code)) throw badInput(`input.${i}.code`, 'use 1-64 letters, digits, _ . or -');
      if (!e.name.trim()) throw badInput(`input.${i}.name`, 'must not be empty');
      if (!isCurrency(e.currency)) throw badInput(`input.${i}.currency`, `"${e.currency}" is not an ISO 4217 currency code`, 'UNKNOWN_CURRENCY');
      if (e.country && !COUNTRY.test(e.country)) throw badInput(`input.${i}.country`, 'must be an ISO 3166-1 alpha-2 code such as US');
    });
    return inTransaction(ctx, async (tx) => {
      const repo = tx.em.getRepository(LegalEntity);
      await repo
        .createQueryBuilder()
        .insert()
        .values(inputs.map((e) => ({ tenantId: ctx.tenantId, code: e.code, name: e.name.trim(), currency: e.currency, country: e.country ?? null })))
        .orUpdate(['name', 'currency', 'country', 'updated_at'], ['tenant_id', 'code'])
        .execute();
      const rows = await repo.findBy({ tenantId: ctx.tenantId, code: In(inputs.map((e) => e.code)) });
      await this.audit.record(tx, ...rows.map((r) => ({ action: 'entity.upserted', subjectType: 'Entity', subjectId: r.id, data: { code: r.code } })));
      return rows;
    });
  }

  list(ctx: RequestContext): Promise<LegalEntity[]> {
    return ctx.em.getRepository(LegalEntity).find({ where: { tenantId: ctx.tenantId }, order: { code: 'ASC' } });
  }

  byCodes(ctx: RequestContext, codes: string[]): Promise<LegalEntity[]> {
    return ctx.em.getRepository(LegalEntity).findBy({ tenantId: ctx.tenantId, code: In(codes) });
  }

  loader(ctx: RequestContext): DataLoader<string, LegalEntity | null> {
    return byIdLoader(ctx, LegalEntity, 'legalEntityById');
  }

}
