import { registerEnumType } from 'type-graphql';
import { daysBetween, type IsoDate } from '../../platform/time/dates';

export enum AgingBucket {
  CURRENT = 'CURRENT',
  DAYS_1_30 = 'DAYS_1_30',
  DAYS_31_60 = 'DAYS_31_60',
  DAYS_61_90 = 'DAYS_61_90',
  DAYS_90_PLUS = 'DAYS_90_PLUS',
}
registerEnumType(AgingBucket, { name: 'AgingBucket', description: 'Where an open invoice sits by days past due: current, 1-30, 31-60, 61-90, over 90.' });

/** Calendar days past the due date as of a day (0 or less: not yet due). */
export function daysPastDue(dueDate: IsoDate, asOf: IsoDate): number {
  return daysBetween(dueDate, asOf);
}

export function agingBucket(dpd: number): AgingBucket {
  if (dpd <= 0) return AgingBucket.CURRENT;
  if (dpd <= 30) return AgingBucket.DAYS_1_30;
  if (dpd <= 60) return AgingBucket.DAYS_31_60;
  if (dpd <= 90) return AgingBucket.DAYS_61_90;
  return AgingBucket.DAYS_90_PLUS;
}
