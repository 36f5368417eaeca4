import { z } from 'zod';
import type { ErpConnector } from '../../../integrations/erp/erp-connector';
import { HubSpotConnector } from '../../../integrations/hubspot/hubspot.connector';
import { StripeConnector } from '../../../integrations/stripe/stripe.connector';
import { CrmErpAdapter } from './crm-sync';

/**
 * Config, credentials and construction of the STRIPE and HUBSPOT connection kinds, plugged
 * into connector-registry.ts (which passes its shared settings in, so this file does not
 * import it back).
 */
export function stripeHubSpotConfigSchemas<C extends z.ZodRawShape>(common: C, httpUrl: z.ZodString) {
  const property = z.string().regex(/^[a-z0-9_]{1,100}$/, 'a HubSpot internal property name (lowercase letters, digits, _)');
  return {
    STRIPE: z
      .object({
        baseUrl: httpUrl.default('https://api.stripe.com'),
        apiVersion: z.string().regex(/^\d{4}-\d{2}-\d{2}(\.[a-z]+)?$/, 'a Stripe API version such as 2024-06-20').default('2024-06-20'),
        defaultCurrency: z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code').default('USD'),
        ...common,
      })
      .strict(),
    HUBSPOT: z
      .object({
        baseUrl: httpUrl.default('https://api.hubapi.com'),
        matchBy: z.enum(['PROPERTY', 'DOMAIN']).default('PROPERTY'),
        customerNumberProperty: property.default('erp_customer_number'),
        ownerProperty: property.default('hubspot_owner_id'),
        renewalDateProperty: property.nullable().default('renewal_date'),
        tierProperty: property.nullable().default(null),
        ...common,
      })
      .strict(),
  };
}

const secret = z.string().min(1).max(4000);
export const stripeHubSpotCredentialSchemas = {
  STRIPE: z.object({ secretKey: secret.regex(/^(sk|rk)_/, 'a Stripe secret or restricted key (sk_… / rk_…)') }).strict(),
  HUBSPOT: z.object({ accessToken: secret }).strict(),
};

type Schemas = ReturnType<typeof stripeHubSpotConfigSchemas<Record<string, never>>>;
type StripeSettings = z.infer<Schemas['STRIPE']>;
type HubSpotSettings = z.infer<Schemas['HUBSPOT']>;

export function stripeHubSpotConnector(kind: 'STRIPE' | 'HUBSPOT', config: object, credentials: Record<string, unknown>): ErpConnector {
  if (kind === 'STRIPE') {
    const c = config as StripeSettings & { timeoutMs: number };
    return new StripeConnector({ baseUrl: c.baseUrl, timeoutMs: c.timeoutMs, apiVersion: c.apiVersion, defaultCurrency: c.defaultCurrency }, { secretKey: String(credentials.secretKey ?? '') });
  }
  const c = config as HubSpotSettings & { timeoutMs: number };
  return new CrmErpAdapter(
    new HubSpotConnector(
      { baseUrl: c.baseUrl, timeoutMs: c.timeoutMs, matchBy: c.matchBy, customerNumberProperty: c.customerNumberProperty, ownerProperty: c.ownerProperty, renewalDateProperty: c.renewalDateProperty, tierProperty: c.tierProperty },
      { accessToken: String(credentials.accessToken ?? '') },
    ),
  );
}
