import type { RequestContext } from '../../platform/context';

export interface Recipient {
  customer: { id: string; name: string; externalId: string; locale: string; ownerUserId: string | null };
  contact: { name: string; email: string | null; phone: string | null } | null;
  owner: { name: string; email: string } | null;
  tenantName: string;
}

/** Who a customer message goes to and comes from: the primary (else billing) contact, the owner. */
export async function loadRecipient(ctx: RequestContext, customerId: string): Promise<Recipient> {
  const [row] = await ctx.em.query(
    `SELECT c.id, c.name, c.external_id, c.locale, c.owner_user_id, t.name AS tenant_name, u.name AS owner_name, u.email AS owner_email,
            ct.name AS contact_name, ct.email AS contact_email, ct.phone AS contact_phone
     FROM customers c
     JOIN tenants t ON t.id = c.tenant_id
     LEFT JOIN users u ON u.id = c.owner_user_id AND u.tenant_id = c.tenant_id
     LEFT JOIN LATERAL (SELECT name, email, phone FROM contacts WHERE tenant_id = c.tenant_id AND customer_id = c.id
                        ORDER BY is_primary DESC, (role = 'BILLING') DESC, position LIMIT 1) ct ON true
     WHERE c.tenant_id = $1 AND c.id = $2`,
    [ctx.tenantId, customerId],
  );
  return {
    customer: { id: row.id, name: row.name, externalId: row.external_id, locale: row.locale, ownerUserId: row.owner_user_id },
    contact: row.contact_name ? { name: row.contact_name, email: row.contact_email, phone: row.contact_phone } : null,
    owner: row.owner_name ? { name: row.owner_name, email: row.owner_email } : null,
    tenantName: row.tenant_name,
  };
}
