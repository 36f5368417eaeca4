import { addDays, daysBetween, endOfMonth, isIsoDate, isTimeZone, todayIn } from '../dates';

describe('calendar dates', () => {
  it('validates ISO dates strictly', () => {
    expect(isIsoDate('2026-02-28')).toBe(true);
    expect(isIsoDate('2026-02-29')).toBe(false);
    expect(isIsoDate('2028-02-29')).toBe(true);
    expect(isIsoDate('2026-2-3')).toBe(false);
    expect(isIsoDate('2026-02-28T00:00:00Z')).toBe(false);
  });

  it('does calendar arithmetic across months, years and DST changes', () => {
    expect(addDays('2026-01-31', 30)).toBe('2026-03-02');
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(addDays('2026-03-08', 1)).toBe('2026-03-09'); // US DST starts: still one day
    expect(daysBetween('2026-03-01', '2026-03-31')).toBe(30);
    expect(daysBetween('2026-03-31', '2026-03-01')).toBe(-30);
    expect(endOfMonth('2026-02-10')).toBe('2026-02-28');
    expect(endOfMonth('2028-02-10')).toBe('2028-02-29');
  });

  it('knows today in the tenant\'s time zone, not UTC', () => {
    const instant = new Date('2026-06-01T02:30:00Z');
    expect(todayIn('UTC', instant)).toBe('2026-06-01');
    expect(todayIn('America/Los_Angeles', instant)).toBe('2026-05-31');
    expect(todayIn('Asia/Tokyo', new Date('2026-05-31T16:00:00Z'))).toBe('2026-06-01');
    expect(isTimeZone('Europe/Paris')).toBe(true);
    expect(isTimeZone('Mars/Olympus')).toBe(false);
  });
});

describe('daysBetween agrees with calendar arithmetic', () => {
  it('over leap years, month ends and DST dates', () => {
    const start = '2023-12-25';
    for (let n = -800; n <= 800; n += 37) {
      expect(daysBetween(start, addDays(start, n))).toBe(n);
    }
    expect(daysBetween('2028-02-28', '2028-03-01')).toBe(2);
    expect(daysBetween('2026-03-29', '2026-03-30')).toBe(1); // EU DST change
  });
});
