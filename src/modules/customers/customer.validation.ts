import { Problems } from '../../platform/errors';
import { isCurrency, parseDecimal } from '../../platform/money/money';
import { isIsoDate } from '../../platform/time/dates';
import { Channel, ContactRole } from './contact.entity';
import type { PortalStatus } from './customer.entity';
import type { UpsertCustomerInput } from './dto/customer.inputs';

/** A customer ready to write: every reference resolved, every value checked. */
export interface CustomerRow {
  externalId: string;
  name: string;
  entityId: string;
  currency: string;
  segment: string | null;
  tier: string | null;
  country: string | null;
  locale: string;
  ownerUserId: string | null;
  creditLimitMinor: bigint | null;
  /** null: not given (kept on update, false on create). */
  creditHold: boolean | null;
  /** null: not given (kept on update, NONE on create). */
  portalStatus: PortalStatus | null;
  renewalDate: string | null;
  contacts: ContactRow[] | null;
}

export interface ContactRow {
  name: string;
  email: string | null;
  phone: string | null;
  role: ContactRole;
  isPrimary: boolean;
  channelPreference: Channel;
}

export interface CustomerLookups {
  entityIdByCode: Map<string, string>;
  ownerIds: Set<string>;
}

export const CustomerErrors = {
  REQUIRED: 'REQUIRED',
  UNKNOWN_ENTITY: 'UNKNOWN_ENTITY',
  UNKNOWN_OWNER: 'UNKNOWN_OWNER',
  UNKNOWN_CURRENCY: 'UNKNOWN_CURRENCY',
  INVALID_AMOUNT: 'INVALID_AMOUNT',
  NEGATIVE_AMOUNT: 'NEGATIVE_AMOUNT',
  INVALID_FORMAT: 'INVALID_FORMAT',
  DUPLICATE_IN_BATCH: 'DUPLICATE_IN_BATCH',
} as const;

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const PHONE = /^\+[1-9]\d{6,14}$/;
const LOCALE = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;

export function validateCustomer(input: UpsertCustomerInput, lookups: CustomerLookups): { row: CustomerRow | null; problems: Problems } {
  const p = new Problems();
  const externalId = input.externalId?.trim() ?? '';
  if (!externalId || externalId.length > 128) p.add('externalId', CustomerErrors.REQUIRED, 'must be 1-128 characters');
  const name = input.name?.trim() ?? '';
  if (!name || name.length > 300) p.add('name', CustomerErrors.REQUIRED, 'must be 1-300 characters');
  const entityId = lookups.entityIdByCode.get(input.entityCode);
  if (!entityId) p.add('entityCode', CustomerErrors.UNKNOWN_ENTITY, `no entity with code "${input.entityCode}"; create it with upsertEntities`);
  const currencyOk = isCurrency(input.currency);
  if (!currencyOk) p.add('currency', CustomerErrors.UNKNOWN_CURRENCY, `"${input.currency}" is not an ISO 4217 currency code`);
  if (input.country && !/^[A-Z]{2}$/.test(input.country)) p.add('country', CustomerErrors.INVALID_FORMAT, 'must be an ISO 3166-1 alpha-2 code such as US');
  if (input.locale && !LOCALE.test(input.locale)) p.add('locale', CustomerErrors.INVALID_FORMAT, 'must be a BCP 47 tag such as en or fr-CA');
  if (input.ownerId && !lookups.ownerIds.has(input.ownerId)) p.add('ownerId', CustomerErrors.UNKNOWN_OWNER, `no user ${input.ownerId} in this tenant`);
  if (input.renewalDate && !isIsoDate(input.renewalDate)) p.add('renewalDate', CustomerErrors.INVALID_FORMAT, 'must be YYYY-MM-DD');
  let creditLimitMinor: bigint | null = null;
  if (input.creditLimit !== undefined && input.creditLimit !== null && currencyOk) {
    const r = parseDecimal(input.creditLimit, input.currency);
    if (!r.ok) p.add('creditLimit', CustomerErrors.INVALID_AMOUNT, r.message);
    else if (r.minor < 0n) p.add('creditLimit', CustomerErrors.NEGATIVE_AMOUNT, 'must not be negative');
    else creditLimitMinor = r.minor;
  }
  const contacts = input.contacts?.map((c, i): ContactRow => {
    if (!c.name?.trim()) p.add(`contacts.${i}.name`, CustomerErrors.REQUIRED, 'must not be empty');
    if (c.email && !EMAIL.test(c.email)) p.add(`contacts.${i}.email`, CustomerErrors.INVALID_FORMAT, `"${c.email}" is not an email address`);
    if (c.phone && !PHONE.test(c.phone)) p.add(`contacts.${i}.phone`, CustomerErrors.INVALID_FORMAT, 'must be E.164, e.g. +14155550100');
    return {
      name: c.name?.trim() ?? '',
      email: c.email?.trim().toLowerCase() || null,
      phone: c.phone || null,
      role: c.role ?? ContactRole.BILLING,
      isPrimary: !!c.isPrimary,
      channelPreference: c.channelPreference ?? Channel.EMAIL,
    };
  });
  if (!p.ok) return { row: null, problems: p };
  return {
    problems: p,
    row: {
      externalId,
      name,
      entityId: entityId!,
      currency: input.currency,
      segment: input.segment?.trim() || null,
      tier: input.tier?.trim() || null,
      country: input.country ?? null,
      locale: input.locale ?? 'en',
      ownerUserId: input.ownerId ?? null,
      creditLimitMinor,
      creditHold: input.creditHold ?? null,
      portalStatus: input.portalStatus ?? null,
      renewalDate: input.renewalDate ?? null,
      contacts: contacts ?? null,
    },
  };
}
