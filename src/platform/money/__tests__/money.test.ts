import { currencyExponent, formatMinor, isCurrency, parseDecimal } from '../money';

describe('money', () => {
  it('knows ISO 4217 codes and their minor units', () => {
    expect(isCurrency('USD')).toBe(true);
    expect(isCurrency('usd')).toBe(false);
    expect(isCurrency('XYZ')).toBe(false);
    expect(currencyExponent('USD')).toBe(2);
    expect(currencyExponent('JPY')).toBe(0);
    expect(currencyExponent('KWD')).toBe(3);
  });

  it('parses decimal strings into integer minor units, never through floats', () => {
    expect(parseDecimal('1234.56', 'USD')).toEqual({ ok: true, minor: 123456n });
    expect(parseDecimal('0.1', 'USD')).toEqual({ ok: true, minor: 10n });
    expect(parseDecimal('999999999999999.99', 'USD')).toEqual({ ok: true, minor: 99999999999999999n });
    expect(parseDecimal('-3', 'EUR')).toEqual({ ok: true, minor: -300n });
    expect(parseDecimal('5000', 'JPY')).toEqual({ ok: true, minor: 5000n });
    expect(parseDecimal('1.234', 'KWD')).toEqual({ ok: true, minor: 1234n });
  });

  it('refuses excess precision and non-numbers with a message', () => {
    expect(parseDecimal('10.001', 'USD')).toMatchObject({ ok: false, message: expect.stringContaining('2 decimal places') });
    expect(parseDecimal('1.5', 'JPY')).toMatchObject({ ok: false });
    for (const bad of ['', '1e3', '1,000.00', 'abc', '.5', '1.', 'NaN']) expect(parseDecimal(bad, 'USD').ok).toBe(false);
  });

  it('formats minor units back exactly', () => {
    expect(formatMinor(123456n, 'USD')).toBe('1234.56');
    expect(formatMinor(5n, 'USD')).toBe('0.05');
    expect(formatMinor(-5n, 'USD')).toBe('-0.05');
    expect(formatMinor(0n, 'GBP')).toBe('0.00');
    expect(formatMinor(5000n, 'JPY')).toBe('5000');
    expect(formatMinor(1234n, 'KWD')).toBe('1.234');
    const big = 12345678901234567890n;
    const s = formatMinor(big, 'USD');
    expect(parseDecimal(s, 'USD')).toEqual({ ok: false, message: expect.any(String) }); // beyond 15 integer digits is refused on input
    expect(s).toBe('123456789012345678.90');
  });
});
