import { Field, ID, InputType, ObjectType } from 'type-graphql';
import { Length } from 'class-validator';
import { Role } from '../../../platform/auth/roles';
import { ApiKey } from '../api-key.entity';
import { Tenant } from '../tenant.entity';
import { UserRole } from '../user.entity';

@InputType()
export class CreateTenantInput {
  @Field() @Length(1, 200) name: string;
  @Field({ description: 'IANA time zone, e.g. America/New_York' }) timezone: string;
  @Field({ description: 'ISO 4217 code' }) functionalCurrency: string;
}

@InputType()
export class UpdateTenantInput {
  @Field({ nullable: true }) @Length(1, 200) name?: string;
  @Field({ nullable: true }) timezone?: string;
  @Field({ nullable: true }) functionalCurrency?: string;
}

@InputType()
export class CreateApiKeyInput {
  @Field() @Length(1, 200) name: string;
  @Field(() => Role) role: Role;
  @Field({ nullable: true, defaultValue: false }) partner: boolean;
  @Field(() => ID, { nullable: true, description: 'Mint for a tenant this partner created; default: the caller\'s tenant.' })
  tenantId?: string;
}

@ObjectType({ description: 'A new key. `secret` is shown only here, once: store it now.' })
export class CreatedApiKey {
  @Field(() => ApiKey) apiKey: ApiKey;
  @Field() secret: string;
}

@ObjectType()
export class CreateTenantPayload {
  @Field(() => Tenant) tenant: Tenant;
  @Field(() => CreatedApiKey, { description: 'The new tenant\'s first ADMIN key.' }) adminKey: CreatedApiKey;
}

@ObjectType({ description: 'The caller: its key and tenant.' })
export class Me {
  @Field(() => Tenant) tenant: Tenant;
  @Field(() => ApiKey, { nullable: true, description: 'Null when the caller is the system.' }) apiKey: ApiKey | null;
  @Field(() => Role) role: Role;
  @Field() partner: boolean;
}

@InputType()
export class CreateUserInput {
  @Field() @Length(1, 200) name: string;
  @Field() email: string;
  @Field(() => UserRole) role: UserRole;
}
