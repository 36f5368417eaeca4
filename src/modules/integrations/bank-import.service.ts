import { Bai2Parser } from '../../../integrations/bank/bai2.parser';
import { BankFileError, BankStatementFormat, type BankStatementParser, type StatementReturn } from '../../../integrations/bank/bank-statement-parser';
import { Camt053Parser } from '../../../integrations/bank/camt053.parser';
import type { RequestContext } from '../../platform/context';
import { badInput } from '../../platform/errors';
import { parseDecimal } from '../../platform/money/money';
import { MAX_BULK } from '../customers/customer.service';
import type { PaymentApplicationService } from '../payments/payment-application.service';
import { PaymentMethod, ReversalReason } from '../payments/payment.entity';
import type { PaymentService } from '../payments/payment.service';
import type { BankStatementLineError, ImportBankStatementInput, ImportBankStatementPayload } from './dto/import.types';
import { decodeContent } from './file-import.service';
import { IntegrationErrors } from './integration.errors';

const PARSERS: Record<BankStatementFormat, BankStatementParser> = {
  [BankStatementFormat.CAMT053]: new Camt053Parser(),
  [BankStatementFormat.BAI2]: new Bai2Parser(),
};

/** ISO 20022 return reasons that mean the payer's bank had no money for it; the rest are returned items. */
const NSF_CODES = new Set(['AM04', 'AM02', 'AM05']);
const CHARGEBACK_CODES = new Set(['MD06', 'FR01']);

/**
 * Bank statements into payments: credits go through recordPayments (source `bank:<account>`,
 * idempotent by the line's bank reference, so the same file twice changes nothing); returned
 * payments reverse the original through reversePayment. The whole file is parsed and checked
 * before anything is written: a cut-off or malformed file imports nothing.
 */
export class BankImportService {
  constructor(
    private readonly payments: PaymentService,
    private readonly application: PaymentApplicationService,
  ) {}

  async import(ctx: RequestContext, input: ImportBankStatementInput): Promise<ImportBankStatementPayload> {
    const content = decodeContent(input.content, input.encoding).toString('utf8');
    let stmt;
    try {
      stmt = PARSERS[input.format].parse(content);
    } catch (err) {
      if (err instanceof BankFileError) throw badInput('content', err.message, err.code === 'TRUNCATED' || err.code === 'CONTROL_TOTAL_MISMATCH' ? IntegrationErrors.TRUNCATED : IntegrationErrors.MALFORMED_FILE);
      throw err;
    }
    const source = `bank:${stmt.account}`.slice(0, 64);
    const errors: BankStatementLineError[] = [];
    const out: ImportBankStatementPayload = { statementId: stmt.statementId, account: stmt.account, source, credits: stmt.credits.length, recorded: 0, alreadyRecorded: 0, returns: stmt.returns.length, reversed: 0, alreadyReversed: 0, skipped: stmt.skipped, paymentIds: [], errors };

    const newIds: string[] = [];
    await ctx.em.transaction(async (em) => {
      const tx = ctx.withManager(em);
      for (let i = 0; i < stmt.credits.length; i += MAX_BULK) {
        const batch = stmt.credits.slice(i, i + MAX_BULK);
        const outcomes = await this.payments.record(
          tx,
          batch.map((c) => ({ source, externalId: c.externalId, method: c.method as PaymentMethod, amount: c.amount, currency: c.currency, receivedOn: c.bookedOn, payerName: c.payerName, payerAccount: c.payerAccount, remittanceText: c.remittanceText?.slice(0, 4000) ?? null, references: c.references })),
          { applyNow: false },
        );
        for (const o of outcomes) {
          o.errors.forEach((e) => errors.push({ externalId: o.externalId, field: e.field, code: e.code, message: e.message }));
          if (o.paymentId) out.paymentIds.push(o.paymentId);
          if (o.created && o.paymentId) {
            out.recorded++;
            newIds.push(o.paymentId);
          } else if (!o.errors.length) out.alreadyRecorded++;
        }
      }
    });
    if (newIds.length) {
      if (input.applyNow) await this.application.apply(ctx, newIds);
      else this.payments.onRecorded(ctx, newIds);
    }
    for (const r of stmt.returns) await this.reverse(ctx, source, r, out);
    return out;
  }

  private async reverse(ctx: RequestContext, source: string, r: StatementReturn, out: ImportBankStatementPayload): Promise<void> {
    const found: { id: string; status: string; amount_minor: string; currency: string }[] = r.originalRefs.length
      ? await ctx.em.query(`SELECT id, status, amount_minor, currency FROM payments WHERE tenant_id = $1 AND source = $2 AND external_id = ANY($3::text[]) ORDER BY created_at`, [ctx.tenantId, source, r.originalRefs])
      : [];
    const p = found[0];
    if (!p) {
      out.errors.push({ externalId: r.externalId, field: 'originalRefs', code: IntegrationErrors.RETURN_NOT_MATCHED, message: `returned payment (${r.originalRefs.join(', ') || 'no reference'}) matches no payment from ${source}; reverse it by hand with reversePayment` });
      return;
    }
    if (p.status === 'REVERSED') {
      out.alreadyReversed++;
      return;
    }
    const amount = parseDecimal(r.amount, r.currency);
    if (!amount.ok || amount.minor !== BigInt(p.amount_minor) || r.currency !== p.currency) {
      out.errors.push({ externalId: r.externalId, field: 'amount', code: IntegrationErrors.RETURN_NOT_MATCHED, message: `the return of ${r.currency} ${r.amount} differs from payment ${p.id} (${p.currency} ${p.amount_minor} minor units): partial returns are reversed by hand` });
      return;
    }
    const reason = r.reasonCode && NSF_CODES.has(r.reasonCode) ? ReversalReason.NSF : r.reasonCode && CHARGEBACK_CODES.has(r.reasonCode) ? ReversalReason.CHARGEBACK : ReversalReason.RETURNED_ACH;
    await this.application.reverse(ctx, p.id, reason, `bank return ${r.externalId}${r.reasonCode ? ` ${r.reasonCode}` : ''}${r.reasonText ? `: ${r.reasonText}` : ''}`.slice(0, 500));
    out.reversed++;
  }
}
