import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { Field, ID, Int, ObjectType } from 'type-graphql';
import { bigintTransformer } from '../../platform/db/transformers';

@ObjectType({ description: 'One line of an invoice; a line can be disputed on its own.' })
@Entity('invoice_lines')
export class InvoiceLine {
  @Field(() => ID)
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'tenant_id', type: 'uuid' })
  tenantId: string;

  @Column({ name: 'invoice_id', type: 'uuid' })
  invoiceId: string;

  @Field(() => Int)
  @Column({ name: 'line_no', type: 'int' })
  lineNo: number;

  @Field(() => String, { nullable: true })
  @Column({ name: 'external_id', type: 'varchar', nullable: true })
  externalId: string | null;

  @Field()
  @Column()
  description: string;

  @Field({ description: 'Decimal string.' })
  @Column({ type: 'numeric', precision: 18, scale: 4, default: 1 })
  quantity: string;

  @Column({ name: 'unit_price_minor', type: 'bigint', transformer: bigintTransformer })
  unitPriceMinor: bigint;

  @Column({ name: 'amount_minor', type: 'bigint', transformer: bigintTransformer })
  amountMinor: bigint;
}
