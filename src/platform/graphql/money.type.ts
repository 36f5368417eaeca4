import { Field, ObjectType } from 'type-graphql';
import { formatMinor } from '../money/money';

@ObjectType({ description: 'An amount of money: a decimal string in the currency\'s minor-unit precision, and its ISO 4217 code.' })
export class Money {
  @Field({ description: 'Decimal string, e.g. "1234.50"; never a float.' })
  amount: string;

  @Field({ description: 'Integer count of minor units (cents), as a string.' })
  amountMinor: string;

  @Field({ description: 'ISO 4217 currency code.' })
  currency: string;

  static of(minor: bigint | string, currency: string): Money {
    const m = new Money();
    const v = typeof minor === 'bigint' ? minor : BigInt(minor);
    m.amount = formatMinor(v, currency);
    m.amountMinor = v.toString();
    m.currency = currency;
    return m;
  }
}
