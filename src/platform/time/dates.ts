import { DateTime, IANAZone } from 'luxon';

/**
 * Calendar dates travel as ISO strings (YYYY-MM-DD), never as JS Dates, so that a due date
 * means the same day in every time zone. Arithmetic is done in UTC on those calendar days.
 */
export type IsoDate = string;

const ISO = /^\d{4}-\d{2}-\d{2}$/;

export function isIsoDate(value: string): boolean {
  return ISO.test(value) && DateTime.fromISO(value, { zone: 'utc' }).isValid;
}

export function isTimeZone(zone: string): boolean {
  return IANAZone.isValidZone(zone);
}

const day = (d: IsoDate) => DateTime.fromISO(d, { zone: 'utc' });

export function addDays(d: IsoDate, n: number): IsoDate {
  return day(d).plus({ days: n }).toISODate()!;
}

export function endOfMonth(d: IsoDate): IsoDate {
  return day(d).endOf('month').toISODate()!;
}

/** Days since 1970-01-01 of a calendar date: integer arithmetic, no time zone involved. */
function epochDay(d: IsoDate): number {
  return Date.UTC(Number(d.slice(0, 4)), Number(d.slice(5, 7)) - 1, Number(d.slice(8, 10))) / 86_400_000;
}

/**
 * Whole calendar days from `from` to `to` (positive when `to` is later). On the engine's hot
 * path (every open invoice, every evaluation), so plain integer arithmetic rather than Luxon.
 */
export function daysBetween(from: IsoDate, to: IsoDate): number {
  return epochDay(to) - epochDay(from);
}

/** The calendar date at instant `now` in time zone `zone`. */
export function todayIn(zone: string, now: Date = new Date()): IsoDate {
  return DateTime.fromJSDate(now, { zone }).toISODate()!;
}
