import { BankFileError, BankStatementFormat, type BankStatementParser, type ParsedStatement } from './bank-statement-parser';

const ZERO_DECIMALS = new Set(['JPY', 'KRW', 'CLP', 'ISK', 'VND']);
/** Type codes 100-399 are credits; these detail codes are cash that customers paid us. */
const CHECK_CODES = new Set(['175', '301', '115', '116', '118', '121', '122']);
const ACH_CODES = new Set(['142', '143', '164', '165', '166', '167', '168', '169', '208']);
const WIRE_CODES = new Set(['191', '195', '196', '198', '201', '206', '195']);
/** "Deposited item returned" and ACH return items: debits that take back an earlier credit. */
const RETURN_CODES = new Set(['555', '556', '557', '558', '564', '566']);

interface Rec {
  code: string;
  fields: string[];
  line: number;
}

/**
 * BAI2 (Cash Management Balance Reporting Specification, version 2): 01 file header, 02 group
 * header, 03 account, 16 transaction detail, 88 continuation, 49 / 98 / 99 trailers with
 * control totals and record counts. Amounts are whole minor units without a decimal point.
 * A file without its 99 trailer, or whose counts or control totals disagree, is cut off: refused.
 */
export class Bai2Parser implements BankStatementParser {
  readonly format = BankStatementFormat.BAI2;

  parse(content: string): ParsedStatement {
    const recs = this.records(content);
    if (!recs.length || recs[0].code !== '01') throw new BankFileError('MALFORMED', 'not a BAI2 file: the first record must be 01 (file header)', 'line 1');
    if (recs[recs.length - 1].code !== '99') throw new BankFileError('TRUNCATED', 'the file is cut off: it does not end with a 99 (file trailer) record', `line ${recs[recs.length - 1].line}`);
    const physical = content.split(/\r?\n/).filter((l) => l.trim()).length;
    const trailer = recs[recs.length - 1];
    if (Number(trailer.fields[3]) !== physical) {
      throw new BankFileError('CONTROL_TOTAL_MISMATCH', `the 99 trailer counts ${trailer.fields[3]} records but the file holds ${physical}: the file is incomplete`, `line ${trailer.line}`);
    }
    const out: ParsedStatement = { format: this.format, statementId: '', account: '', currency: null, credits: [], returns: [], skipped: 0 };
    let groupCurrency = 'USD';
    let asOf = '';
    let account: { id: string; currency: string; total: bigint; records: number; start: number } | null = null;
    let fileTotal = 0n;
    for (const r of recs) {
      const f = r.fields;
      switch (r.code) {
        case '01':
          out.statementId = `${f[2] ?? ''}-${f[3] ?? ''}-${f[6] ?? ''}`;
          break;
        case '02': {
          groupCurrency = f[6] || 'USD';
          if (!/^\d{6}$/.test(f[4] ?? '')) throw new BankFileError('INVALID_VALUE', `line ${r.line}: as-of date must be YYMMDD, got "${f[4]}"`, `line ${r.line}`);
          asOf = `20${f[4].slice(0, 2)}-${f[4].slice(2, 4)}-${f[4].slice(4, 6)}`;
          break;
        }
        case '03': {
          const currency = f[2] || groupCurrency;
          if (out.account && out.account !== f[1]) throw new BankFileError('UNSUPPORTED', 'several accounts in one file; import them one account at a time', `line ${r.line}`);
          out.account = f[1];
          out.currency = currency;
          let total = 0n;
          // Summary items: (type code, amount, item count, funds type) repeated.
          for (let i = 3; i + 1 < f.length; i += 4) if (f[i + 1]) total += this.int(f[i + 1], r.line);
          account = { id: f[1], currency, total, records: r.physical, start: r.line };
          break;
        }
        case '16': {
          if (!account) throw new BankFileError('MALFORMED', `line ${r.line}: a 16 record outside an account`, `line ${r.line}`);
          account.records += r.physical;
          const type = f[1];
          const minor = this.int(f[2], r.line);
          account.total += minor;
          // Funds type S carries three extra amounts, V a date and a time, D a count and pairs.
          let i = 4;
          const funds = (f[3] ?? '').toUpperCase();
          if (funds === 'S') i += 3;
          else if (funds === 'V') i += 2;
          else if (funds === 'D') i += 1 + 2 * Number(f[4] || 0);
          const bankRef = f[i] || null;
          const customerRef = f[i + 1] || null;
          const textField = f.slice(i + 2).join(',').trim() || null;
          const amount = this.decimal(minor, account.currency);
          const code = Number(type);
          if (RETURN_CODES.has(type)) {
            out.returns.push({ externalId: bankRef ?? `${asOf}-${r.line}`, originalRefs: [customerRef, ...(textField?.match(/\b[A-Z0-9-]{6,}\b/g) ?? [])].filter((x): x is string => !!x), amount, currency: account.currency, bookedOn: asOf, reasonCode: type, reasonText: textField });
          } else if (code >= 100 && code < 400 && (CHECK_CODES.has(type) || ACH_CODES.has(type) || WIRE_CODES.has(type))) {
            out.credits.push({
              externalId: bankRef ?? `${asOf}-${r.line}`,
              amount,
              currency: account.currency,
              bookedOn: asOf,
              method: CHECK_CODES.has(type) ? 'CHECK' : ACH_CODES.has(type) ? 'ACH' : 'WIRE',
              payerName: this.payer(textField),
              payerAccount: null,
              remittanceText: textField,
              references: customerRef ? [customerRef] : [],
            });
          } else out.skipped++;
          break;
        }
        case '49': {
          if (!account) throw new BankFileError('MALFORMED', `line ${r.line}: a 49 record without its 03`, `line ${r.line}`);
          account.records += r.physical;
          if (this.int(f[1], r.line) !== account.total) {
            throw new BankFileError('CONTROL_TOTAL_MISMATCH', `line ${r.line}: account control total ${f[1]} disagrees with the sum of the account's amounts ${account.total}`, `line ${r.line}`);
          }
          if (Number(f[2]) !== account.records) throw new BankFileError('CONTROL_TOTAL_MISMATCH', `line ${r.line}: the account trailer counts ${f[2]} records, the account holds ${account.records}`, `line ${r.line}`);
          fileTotal += account.total;
          account = null;
          break;
        }
        case '98':
        case '99':
          if (account) throw new BankFileError('TRUNCATED', `line ${r.line}: account ${account.id} (line ${account.start}) has no 49 trailer`, `line ${r.line}`);
          if (r.code === '99' && this.int(f[1], r.line) !== fileTotal) throw new BankFileError('CONTROL_TOTAL_MISMATCH', `the file control total ${f[1]} disagrees with the accounts' totals ${fileTotal}`, `line ${r.line}`);
          break;
        default:
          throw new BankFileError('MALFORMED', `line ${r.line}: unknown record type "${r.code}"`, `line ${r.line}`);
      }
    }
    if (!out.account) throw new BankFileError('MALFORMED', 'the file has no 03 (account) record');
    return out;
  }

  /** Logical records: each 88 continuation is joined to the record before it. */
  private records(content: string): (Rec & { physical: number })[] {
    const out: (Rec & { physical: number })[] = [];
    content.split(/\r?\n/).forEach((raw, idx) => {
      const line = raw.trim();
      if (!line) return;
      const body = line.endsWith('/') ? line.slice(0, -1) : line;
      const fields = body.split(',');
      if (!/^\d{2}$/.test(fields[0])) throw new BankFileError('MALFORMED', `line ${idx + 1}: a BAI2 record starts with a two-digit record code`, `line ${idx + 1}`);
      if (fields[0] === '88') {
        const prev = out[out.length - 1];
        if (!prev) throw new BankFileError('MALFORMED', `line ${idx + 1}: a continuation with nothing to continue`, `line ${idx + 1}`);
        prev.fields.push(...fields.slice(1));
        prev.physical++;
        return;
      }
      out.push({ code: fields[0], fields, line: idx + 1, physical: 1 });
    });
    return out;
  }

  private int(v: string | undefined, line: number): bigint {
    const s = (v ?? '').trim();
    if (!/^[+-]?\d+$/.test(s)) throw new BankFileError('INVALID_VALUE', `line ${line}: "${s}" is not an amount in minor units`, `line ${line}`);
    return BigInt(s);
  }

  private decimal(minor: bigint, currency: string): string {
    if (ZERO_DECIMALS.has(currency)) return minor.toString();
    const s = minor.toString().padStart(3, '0');
    return `${s.slice(0, -2)}.${s.slice(-2)}`;
  }

  private payer(text: string | null): string | null {
    const m = text?.match(/(?:ORIG(?:INATOR)?|FROM|BY ORDER OF)[:\s]+([^,/;]+?)(?:\s{2,}|\s+(?:REF|INV|ID)\b|$)/i);
    return m ? m[1].trim() : null;
  }
}
