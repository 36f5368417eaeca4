import { registerEnumType } from 'type-graphql';
import { z } from 'zod';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '../../../integrations/core/connector-error';
import type { ErpConnector } from '../../../integrations/erp/erp-connector';
import { GenericHttpErpConnector } from '../../../integrations/erp/generic-http-erp.connector';
import type { CredentialStore, QboCredentials } from '../../../integrations/erp/quickbooks/qbo-client';
import { QuickBooksOnlineConnector } from '../../../integrations/erp/quickbooks/quickbooks.connector';
import { stripeHubSpotConfigSchemas, stripeHubSpotConnector, stripeHubSpotCredentialSchemas } from './stripe-hubspot.connections';

/** Connector kinds that exist today; QuickBooks Online, NetSuite, Stripe, HubSpot and Salesforce plug in here. */
export enum ConnectionKind {
  GENERIC_HTTP_ERP = 'GENERIC_HTTP_ERP',
  QUICKBOOKS_ONLINE = 'QUICKBOOKS_ONLINE',
  STRIPE = 'STRIPE',
  HUBSPOT = 'HUBSPOT',
}
registerEnumType(ConnectionKind, {
  name: 'ConnectionKind',
  description:
    'GENERIC_HTTP_ERP: an ERP or middleware speaking Recoup\'s canonical JSON records (see integrations/README.md). ' +
    'QUICKBOOKS_ONLINE: a QuickBooks Online company (config { realmId, baseUrl, tokenUrl }, credentials { accessToken, refreshToken, clientId, clientSecret }). ' +
    'STRIPE: customers, invoices and payouts as batch settlements (credentials { secretKey }). ' +
    'HUBSPOT: CRM owner, renewal date and tier onto customers, activities out as notes (credentials { accessToken }).',
});

const httpUrl = z.string().refine((v) => {
  try {
    return ['http:', 'https:'].includes(new URL(v).protocol);
  } catch {
    return false;
  }
}, 'expected an http(s) URL');

/** Settings every connection shares: paging, throttling, retries, and defaults for records that lack them. */
const common = {
  pageSize: z.number().int().min(1).max(1000).default(100),
  timeoutMs: z.number().int().min(100).max(120_000).default(15_000),
  /** Minimum pause between two calls (throttling below the remote's rate limit). */
  minIntervalMs: z.number().int().min(0).max(60_000).default(0),
  retryBaseMs: z.number().int().min(100).max(600_000).default(DEFAULT_RETRY_POLICY.baseDelayMs),
  maxAttempts: z.number().int().min(1).max(20).default(DEFAULT_RETRY_POLICY.maxAttempts),
  defaultEntityCode: z.string().min(1).max(64).optional(),
  /** Pull on a schedule every N minutes; without it, only on syncNow. */
  scheduleMinutes: z.number().int().min(5).max(24 * 60).optional(),
};

const quickBooksConfig = z
  .object({
    realmId: z.string().regex(/^\d{1,32}$/, 'the QuickBooks company id (realmId) is digits'),
    baseUrl: httpUrl.default('https://quickbooks.api.intuit.com'),
    tokenUrl: httpUrl.default('https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer'),
    minorVersion: z.number().int().min(1).max(999).default(75),
    homeCurrency: z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code').default('USD'),
    cdcOverlapSeconds: z.number().int().min(0).max(3600).default(60),
    ...common,
  })
  .strict();

export const connectionConfigSchemas = {
  [ConnectionKind.GENERIC_HTTP_ERP]: z.object({ baseUrl: httpUrl, ...common }).strict(),
  [ConnectionKind.QUICKBOOKS_ONLINE]: quickBooksConfig,
  ...stripeHubSpotConfigSchemas(common, httpUrl),
};
const secret = z.string().min(1).max(4000);
export const connectionCredentialSchemas = {
  [ConnectionKind.GENERIC_HTTP_ERP]: z.object({ apiKey: z.string().min(1).max(4000).optional() }).strict(),
  [ConnectionKind.QUICKBOOKS_ONLINE]: z.object({ accessToken: secret, refreshToken: secret, clientId: secret, clientSecret: secret }).strict(),
  ...stripeHubSpotCredentialSchemas,
};

export type ConnectionConfig = z.infer<(typeof connectionConfigSchemas)[ConnectionKind]>;
export type { CredentialStore };

export function retryPolicyOf(config: ConnectionConfig): RetryPolicy {
  return { ...DEFAULT_RETRY_POLICY, baseDelayMs: config.retryBaseMs, maxAttempts: config.maxAttempts };
}

/** `store` persists credentials a connector renews (QuickBooks' refreshed OAuth tokens), sealed like the originals. */
export function erpConnectorFor(kind: ConnectionKind, config: ConnectionConfig, credentials: Record<string, unknown>, store: CredentialStore | null = null): ErpConnector {
  switch (kind) {
    case ConnectionKind.GENERIC_HTTP_ERP:
      return new GenericHttpErpConnector({ baseUrl: config.baseUrl, timeoutMs: config.timeoutMs }, credentials as { apiKey?: string });
    case ConnectionKind.QUICKBOOKS_ONLINE: {
      const c = config as z.infer<typeof quickBooksConfig>;
      return new QuickBooksOnlineConnector(
        { baseUrl: c.baseUrl, realmId: c.realmId, tokenUrl: c.tokenUrl, minorVersion: c.minorVersion, timeoutMs: c.timeoutMs, homeCurrency: c.homeCurrency, cdcOverlapSeconds: c.cdcOverlapSeconds },
        credentials as unknown as QboCredentials,
        store,
      );
    }
    case ConnectionKind.STRIPE:
    case ConnectionKind.HUBSPOT:
      return stripeHubSpotConnector(kind, config, credentials);
  }
}
