import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { BankFileError, BankStatementFormat, type BankStatementParser, type ParsedStatement, type StatementCredit, type StatementReturn } from './bank-statement-parser';

type X = Record<string, unknown>;
const ARRAYS = new Set(['Stmt', 'Ntry', 'TxDtls', 'Ustrd', 'Strd', 'RfrdDocInf', 'Bal', 'AddtlInf']);
const AMOUNT = /^\d{1,15}(\.\d{1,5})?$/;
const DATE = /^\d{4}-\d{2}-\d{2}/;

const obj = (v: unknown): X => (v && typeof v === 'object' && !Array.isArray(v) ? (v as X) : {});
const arr = (v: unknown): X[] => (Array.isArray(v) ? v.map(obj) : v === undefined ? [] : [obj(v)]);
const text = (v: unknown): string | null => {
  if (v === undefined || v === null) return null;
  if (typeof v === 'object') return text((v as X)['#text']);
  const s = String(v).trim();
  return s || null;
};
const path = (v: unknown, ...keys: string[]): unknown => keys.reduce<unknown>((o, k) => obj(o)[k], v);
const realRef = (s: string | null) => (s && s.toUpperCase() !== 'NOTPROVIDED' ? s : null);

/**
 * ISO 20022 BankToCustomerStatement (camt.053, versions 001.02 to 001.13: the elements used
 * here kept their names). Credits (CRDT, not reversed, booked) become payments with their
 * remittance information; a debit that reverses a credit (RvslInd = true, or return
 * information in RtrInf) becomes a return of the original. A document that is not well formed
 * or whose entry count disagrees with TxsSummry is refused whole.
 */
export class Camt053Parser implements BankStatementParser {
  readonly format = BankStatementFormat.CAMT053;

  parse(content: string): ParsedStatement {
    const valid = XMLValidator.validate(content);
    if (valid !== true) {
      // A file cut off in transit stops before the root element closes, wherever the validator trips.
      const truncated = !/<\/(?:\w+:)?Document>$/.test(content.trim());
      throw new BankFileError(truncated ? 'TRUNCATED' : 'MALFORMED', `${truncated ? 'the file is cut off' : 'the file is not well-formed XML'}: ${valid.err.msg} (line ${valid.err.line}, column ${valid.err.col})`, `line ${valid.err.line}`);
    }
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_', parseTagValue: false, removeNSPrefix: true, isArray: (name) => ARRAYS.has(name) }).parse(content) as X;
    const root = obj(path(doc, 'Document', 'BkToCstmrStmt'));
    const stmts = arr(root.Stmt);
    if (!stmts.length) throw new BankFileError('UNSUPPORTED', 'not a camt.053 statement: no Document/BkToCstmrStmt/Stmt');
    if (stmts.length > 1) {
      const accounts = new Set(stmts.map((s) => this.account(s)));
      if (accounts.size > 1) throw new BankFileError('UNSUPPORTED', 'statements for several accounts in one file; import them one account at a time');
    }
    const out: ParsedStatement = { format: this.format, statementId: '', account: this.account(stmts[0]), currency: text(path(stmts[0], 'Acct', 'Ccy')), credits: [], returns: [], skipped: 0 };
    out.statementId = stmts.map((s) => text(s.Id) ?? '').join('+') || text(path(root, 'GrpHdr', 'MsgId')) || 'camt053';
    for (const [si, stmt] of stmts.entries()) {
      const entries = arr(stmt.Ntry);
      const declared = text(path(stmt, 'TxsSummry', 'TtlNtries', 'NbOfNtries'));
      if (declared !== null && Number(declared) !== entries.length) {
        throw new BankFileError('CONTROL_TOTAL_MISMATCH', `statement ${text(stmt.Id) ?? si + 1} declares ${declared} entries (TxsSummry/TtlNtries/NbOfNtries) but holds ${entries.length}: the file is incomplete`, `Stmt[${si}]`);
      }
      entries.forEach((e, ei) => this.entry(e, `Stmt[${si}]/Ntry[${ei}]`, out));
    }
    return out;
  }

  private account(stmt: X): string {
    const id = obj(path(stmt, 'Acct', 'Id'));
    const acct = text(id.IBAN) ?? text(path(id, 'Othr', 'Id'));
    if (!acct) throw new BankFileError('INVALID_VALUE', 'the statement has no account (Acct/Id/IBAN or Acct/Id/Othr/Id)', 'Stmt/Acct');
    return acct;
  }

  private entry(e: X, where: string, out: ParsedStatement): void {
    const status = text(e.Sts) ?? text(path(e, 'Sts', 'Cd'));
    const cdtDbt = text(e.CdtDbtInd);
    const reversal = text(e.RvslInd) === 'true';
    const amt = this.amount(e.Amt, `${where}/Amt`);
    const bookedOn = (text(path(e, 'BookgDt', 'Dt')) ?? text(path(e, 'BookgDt', 'DtTm')) ?? text(path(e, 'ValDt', 'Dt')) ?? '').slice(0, 10);
    if (!DATE.test(bookedOn)) throw new BankFileError('INVALID_VALUE', `${where}: no booking date (BookgDt/Dt)`, where);
    if (cdtDbt !== 'CRDT' && cdtDbt !== 'DBIT') throw new BankFileError('INVALID_VALUE', `${where}: CdtDbtInd must be CRDT or DBIT, got ${cdtDbt}`, where);
    if (status && status !== 'BOOK') {
      out.skipped++;
      return;
    }
    const txs = arr(path(e, 'NtryDtls')).flatMap((d) => arr(d.TxDtls));
    const details = txs.length ? txs : [{}];
    const family = text(path(e, 'BkTxCd', 'Domn', 'Fmly', 'Cd'));
    const entryRef = text(e.AcctSvcrRef) ?? text(e.NtryRef);
    details.forEach((tx, ti) => {
      const txWhere = `${where}/TxDtls[${ti}]`;
      const txAmt = tx.Amt !== undefined ? this.amount(tx.Amt, `${txWhere}/Amt`) : path(tx, 'AmtDtls', 'TxAmt', 'Amt') !== undefined ? this.amount(path(tx, 'AmtDtls', 'TxAmt', 'Amt'), txWhere) : null;
      if (!txAmt && details.length > 1) throw new BankFileError('INVALID_VALUE', `${txWhere}: a batch entry needs an amount per transaction`, txWhere);
      const { amount, currency } = txAmt ?? amt;
      const refs = obj(tx.Refs);
      const e2e = realRef(text(refs.EndToEndId));
      const txId = realRef(text(refs.TxId));
      const bankRef = realRef(text(refs.AcctSvcrRef));
      const rtr = obj(tx.RtrInf);
      const isReturn = cdtDbt === 'DBIT' && (reversal || Object.keys(rtr).length > 0);
      if (isReturn) {
        const ret: StatementReturn = {
          externalId: bankRef ?? (entryRef ? `${entryRef}${details.length > 1 ? `#${ti + 1}` : ''}` : `${bookedOn}-${amount}-${ti}`),
          originalRefs: [e2e, txId, realRef(text(refs.InstrId)), text(path(rtr, 'OrgnlBkTxRef')), text(path(tx, 'RltdRefs', 'AcctSvcrRef'))].filter((x): x is string => !!x),
          amount,
          currency,
          bookedOn,
          reasonCode: text(path(rtr, 'Rsn', 'Cd')) ?? text(path(rtr, 'Rsn', 'Prtry')),
          reasonText: arr(rtr.AddtlInf).map((a) => text(a)).filter(Boolean).join(' ') || null,
        };
        out.returns.push(ret);
        return;
      }
      if (cdtDbt !== 'CRDT' || reversal) {
        out.skipped++;
        return;
      }
      const rmt = obj(tx.RmtInf);
      const ustrd = arr(rmt.Ustrd).length ? (Array.isArray(rmt.Ustrd) ? rmt.Ustrd : [rmt.Ustrd]).map((u) => text(u)).filter((u): u is string => !!u) : [];
      const strdRefs = arr(rmt.Strd).flatMap((s) => [...arr(s.RfrdDocInf).map((r) => text(r.Nb)), text(path(s, 'CdtrRefInf', 'Ref'))]).filter((r): r is string => !!r);
      const parties = obj(tx.RltdPties);
      const credit: StatementCredit = {
        externalId: e2e ?? bankRef ?? txId ?? (entryRef ? `${entryRef}${details.length > 1 ? `#${ti + 1}` : ''}` : `${bookedOn}-${amount}-${ti}`),
        amount,
        currency,
        bookedOn,
        method: family === 'RDDT' ? 'ACH' : family === 'RCHQ' || family === 'CHCK' ? 'CHECK' : family === 'CCRD' || family === 'MCRD' ? 'CARD' : /ESCT|ACH|CCD|PPD|CTX/.test(text(path(e, 'BkTxCd', 'Domn', 'Fmly', 'SubFmlyCd')) ?? '') ? 'ACH' : 'WIRE',
        payerName: text(path(parties, 'Dbtr', 'Nm')) ?? text(path(parties, 'Dbtr', 'Pty', 'Nm')) ?? text(path(parties, 'UltmtDbtr', 'Nm')),
        payerAccount: text(path(parties, 'DbtrAcct', 'Id', 'IBAN')) ?? text(path(parties, 'DbtrAcct', 'Id', 'Othr', 'Id')),
        remittanceText: ustrd.join(' ') || null,
        references: [...new Set(strdRefs)],
      };
      out.credits.push(credit);
    });
  }

  private amount(v: unknown, where: string): { amount: string; currency: string } {
    const amount = text(v);
    const currency = text(obj(v)['@_Ccy']);
    if (!amount || !AMOUNT.test(amount)) throw new BankFileError('INVALID_VALUE', `${where}: "${amount ?? ''}" is not an amount`, where);
    if (!currency || !/^[A-Z]{3}$/.test(currency)) throw new BankFileError('INVALID_VALUE', `${where}: the amount has no currency (Ccy attribute)`, where);
    return { amount, currency };
  }
}
