import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { DateScalar } from '../../../platform/graphql/scalars';
import { connectionType } from '../../../platform/graphql/connection';
import { Channel, ContactRole } from '../contact.entity';
import { Customer, PortalStatus } from '../customer.entity';
import { FieldError } from '../../../platform/graphql/field-error.type';

@InputType()
export class ContactInput {
  @Field() name: string;
  @Field(() => String, { nullable: true }) email?: string | null;
  @Field(() => String, { nullable: true, description: 'E.164, e.g. +14155550100' }) phone?: string | null;
  @Field(() => ContactRole, { nullable: true, defaultValue: ContactRole.BILLING }) role?: ContactRole;
  @Field({ nullable: true, defaultValue: false }) isPrimary?: boolean;
  @Field(() => Channel, { nullable: true, defaultValue: Channel.EMAIL }) channelPreference?: Channel;
}

@InputType({ description: 'A customer, matched by `externalId` (created if new, updated otherwise).' })
export class UpsertCustomerInput {
  @Field() externalId: string;
  @Field() name: string;
  @Field({ description: 'Code of the legal entity that bills this customer.' }) entityCode: string;
  @Field({ description: 'ISO 4217' }) currency: string;
  @Field(() => String, { nullable: true }) segment?: string | null;
  @Field(() => String, { nullable: true }) tier?: string | null;
  @Field(() => String, { nullable: true, description: 'ISO 3166-1 alpha-2' }) country?: string | null;
  @Field(() => String, { nullable: true, description: 'BCP 47, default en' }) locale?: string | null;
  @Field(() => ID, { nullable: true, description: 'User id of the owning collector' }) ownerId?: string | null;
  @Field(() => String, { nullable: true, description: 'Decimal string in the customer currency' }) creditLimit?: string | null;
  @Field({ nullable: true }) creditHold?: boolean;
  @Field(() => PortalStatus, { nullable: true }) portalStatus?: PortalStatus;
  @Field(() => DateScalar, { nullable: true }) renewalDate?: string | null;
  @Field(() => [ContactInput], { nullable: true, description: 'When given, replaces the customer\'s contacts.' }) contacts?: ContactInput[] | null;
}

@ObjectType({ description: 'The outcome for one item of a bulk upsert: the record, or why it was refused.' })
export class UpsertCustomerResult {
  @Field(() => Int, { description: 'Position of the item in the input list.' }) index: number;
  @Field() externalId: string;
  @Field(() => Customer, { nullable: true }) customer: Customer | null;
  @Field({ nullable: true, description: 'True when the call created the customer, false when it updated it.' }) created?: boolean;
  @Field({ nullable: true, description: 'False when the item matched what was stored: nothing was written.' }) changed?: boolean;
  @Field(() => [FieldError]) errors: FieldError[];
}

@ObjectType()
export class UpsertCustomersPayload {
  @Field(() => [UpsertCustomerResult]) results: UpsertCustomerResult[];
  @Field(() => Int) succeeded: number;
  @Field(() => Int) failed: number;
}

export enum CustomerOrderField {
  NAME = 'NAME',
  EXTERNAL_ID = 'EXTERNAL_ID',
  CREATED_AT = 'CREATED_AT',
}
registerEnumType(CustomerOrderField, { name: 'CustomerOrderField' });

@InputType()
export class CustomerFilter {
  @Field(() => [ID], { nullable: true }) entityIds?: string[];
  @Field(() => [String], { nullable: true }) segments?: string[];
  @Field(() => [String], { nullable: true }) tiers?: string[];
  @Field(() => [ID], { nullable: true }) ownerIds?: string[];
  @Field(() => [String], { nullable: true }) countries?: string[];
  @Field({ nullable: true }) creditHold?: boolean;
  @Field({ nullable: true, description: 'Case-insensitive match on name or external id.' }) search?: string;
}

export const CustomerConnection = connectionType(Customer, 'Customer');
export type CustomerConnection = InstanceType<typeof CustomerConnection>;
