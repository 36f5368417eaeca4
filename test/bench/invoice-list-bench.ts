import { arg, benchEnv, gqlPost, latency } from './bench-env';

/**
 * Foundation benchmark: stream the demo book in (invoices/s, peak RSS), then the invoice list
 * endpoint (page of 100 with customer, contacts and lines) against a trivial query, side by side.
 */
export async function run(): Promise<void> {
  const invoices = arg('invoices', 200_000);
  const customers = arg('customers', Math.max(1, Math.round(invoices / 10)));
  const iterations = arg('iterations', 200);
  const env = await benchEnv('invoice-list');
  try {
    let peakRss = process.memoryUsage().rss;
    const t0 = Date.now();
    const summary = await env.app.modules.services.demo.seed(env.ctx, {
      customers,
      invoices,
      seed: 1,
      asOf: '2026-11-24',
      onProgress: () => (peakRss = Math.max(peakRss, process.memoryUsage().rss)),
    });
    const seedSecs = (Date.now() - t0) / 1000;
    await env.app.dataSource.query('ANALYZE');
    const trivial = await latency(iterations, gqlPost(env.url, '{ __typename }'));
    const page = `query($after: String) { invoices(first: 100, after: $after, filter: { overdue: true }, asOf: "2026-11-24") {
      pageInfo { endCursor } nodes { number daysPastDue agingBucket openBalance { amount currency } customer { name contacts { email } } lines { description } } } }`;
    const list = await latency(iterations, gqlPost(env.url, page));
    const withCount = await latency(iterations, gqlPost(env.url, page.replace('pageInfo {', 'totalCount pageInfo {')));
    const search = await latency(iterations, gqlPost(env.url, '{ invoices(first: 50, filter: { search: "INV-00012" }) { nodes { number } } }'));
    const rows = [
      ['seed', `${summary.invoices} invoices, ${summary.customers} customers in ${seedSecs.toFixed(1)} s = ${Math.round(summary.invoices / seedSecs)} invoices/s, peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB`],
      ['trivial { __typename }', `p50 ${trivial.p50.toFixed(2)} ms  p95 ${trivial.p95.toFixed(2)} ms`],
      ['invoices page of 100 (overdue)', `p50 ${list.p50.toFixed(2)} ms  p95 ${list.p95.toFixed(2)} ms  (${(list.p95 / trivial.p95).toFixed(1)}x trivial p95)`],
      ['  + totalCount', `p50 ${withCount.p50.toFixed(2)} ms  p95 ${withCount.p95.toFixed(2)} ms  (${(withCount.p95 / trivial.p95).toFixed(1)}x trivial p95)`],
      ['search by number (ILIKE)', `p50 ${search.p50.toFixed(2)} ms  p95 ${search.p95.toFixed(2)} ms  (${(search.p95 / trivial.p95).toFixed(1)}x trivial p95)`],
    ];
    for (const [k, v] of rows) process.stdout.write(`${k.padEnd(34)} ${v}\n`);
  } finally {
    await env.close();
  }
}
