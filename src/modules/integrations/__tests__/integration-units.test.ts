import { ConnectorError, ConnectorErrorKind, parseRetryAfter, retryDelay } from '../../../../integrations/core/connector-error';
import { ConfigError, loadConfig } from '../../../platform/config/config';
import { parseAmountCell, parseDateCell } from '../import-values';
import { DateFormat } from '../dto/import.types';
import { SecretBox } from '../secret-box';

describe('integration units', () => {
  it('INTEGRATIONS_SECRET_KEY: a development default, a clear error in production, 32 bytes only', () => {
    expect(loadConfig({}).integrationsKey).toHaveLength(32);
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/INTEGRATIONS_SECRET_KEY: required when NODE_ENV=production/);
    expect(() => loadConfig({ INTEGRATIONS_SECRET_KEY: 'short' })).toThrow(ConfigError);
    expect(loadConfig({ NODE_ENV: 'production', INTEGRATIONS_SECRET_KEY: 'ab'.repeat(32) }).integrationsKey).toEqual(Buffer.alloc(32, 0xab));
  });

  it('seals secrets per tenant', () => {
    const box = new SecretBox(Buffer.alloc(32, 7));
    const sealed = box.seal('{"apiKey":"k"}', 'tenant-a');
    expect(sealed).not.toContain('apiKey');
    expect(box.open(sealed, 'tenant-a')).toBe('{"apiKey":"k"}');
    expect(() => box.open(sealed, 'tenant-b')).toThrow();
  });

  it('retries by error kind', () => {
    const policy = { maxAttempts: 4, baseDelayMs: 1000, maxDelayMs: 60_000, defaultRetryAfterMs: 30_000 };
    expect(retryDelay(new ConnectorError(ConnectorErrorKind.RATE_LIMITED, 'x', { retryAfterMs: 7000 }), 1, policy)).toBe(7000);
    expect(retryDelay(new ConnectorError(ConnectorErrorKind.TRANSIENT, 'x'), 3, policy)).toBe(4000);
    expect(retryDelay(new ConnectorError(ConnectorErrorKind.TIMEOUT, 'x'), 4, policy)).toBeNull();
    expect(retryDelay(new ConnectorError(ConnectorErrorKind.PERMANENT, 'x'), 1, policy)).toBeNull();
    expect(retryDelay(new ConnectorError(ConnectorErrorKind.INVALID_RESPONSE, 'x'), 1, policy)).toBeNull();
    expect(parseRetryAfter('120')).toBe(120_000);
    expect(parseRetryAfter(new Date(Date.now() + 5000).toUTCString())).toBeGreaterThan(3000);
  });

  it('reads dates and amounts as spreadsheets hold them', () => {
    expect(parseDateCell('31/03/2026', DateFormat.DMY)).toEqual({ ok: true, value: '2026-03-31' });
    expect(parseDateCell('03/31/2026', DateFormat.MDY)).toEqual({ ok: true, value: '2026-03-31' });
    expect(parseDateCell(46112, DateFormat.ISO)).toEqual({ ok: true, value: '2026-03-31' });
    expect(parseDateCell('2026-02-30', DateFormat.ISO).ok).toBe(false);
    expect(parseAmountCell('$1,234.56', false)).toEqual({ ok: true, value: '1234.56' });
    expect(parseAmountCell('1.234,56', true)).toEqual({ ok: true, value: '1234.56' });
    expect(parseAmountCell('(120.00)', false)).toEqual({ ok: true, value: '-120.00' });
    expect(parseAmountCell(12.1, false)).toEqual({ ok: true, value: '12.1' });
    expect(parseAmountCell('twelve', false).ok).toBe(false);
  });
});
