import { registerEnumType } from 'type-graphql';
import { z } from 'zod';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '../../../integrations/core/connector-error';
import type { ErpConnector } from '../../../integrations/erp/erp-connector';
import { GenericHttpErpConnector } from '../../../integrations/erp/generic-http-erp.connector';

/** Connector kinds that exist today; QuickBooks Online, NetSuite, Stripe, HubSpot and Salesforce plug in here. */
export enum ConnectionKind {
  GENERIC_HTTP_ERP = 'GENERIC_HTTP_ERP',
}
registerEnumType(ConnectionKind, { name: 'ConnectionKind', description: 'GENERIC_HTTP_ERP: an ERP or middleware speaking Recoup\'s canonical JSON records (see integrations/README.md).' });

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

export const connectionConfigSchemas = {
  [ConnectionKind.GENERIC_HTTP_ERP]: z.object({ baseUrl: httpUrl, ...common }).strict(),
};
export const connectionCredentialSchemas = {
  [ConnectionKind.GENERIC_HTTP_ERP]: z.object({ apiKey: z.string().min(1).max(4000).optional() }).strict(),
};

export type ConnectionConfig = z.infer<(typeof connectionConfigSchemas)[ConnectionKind.GENERIC_HTTP_ERP]>;

export function retryPolicyOf(config: ConnectionConfig): RetryPolicy {
  return { ...DEFAULT_RETRY_POLICY, baseDelayMs: config.retryBaseMs, maxAttempts: config.maxAttempts };
}

export function erpConnectorFor(kind: ConnectionKind, config: ConnectionConfig, credentials: Record<string, unknown>): ErpConnector {
  switch (kind) {
    case ConnectionKind.GENERIC_HTTP_ERP:
      return new GenericHttpErpConnector({ baseUrl: config.baseUrl, timeoutMs: config.timeoutMs }, credentials as { apiKey?: string });
  }
}
