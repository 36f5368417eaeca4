import { Arg, Authorized, ID, Mutation, Query, Resolver } from 'type-graphql';
import { PARTNER, Role } from '../../platform/auth/roles';
import type { RequestContext } from '../../platform/context';
import { Ctx } from '../../platform/graphql/gql-context';
import { ApiKey } from './api-key.entity';
import type { ApiKeyService } from './api-key.service';
import { CreateApiKeyInput, CreatedApiKey, CreateTenantInput, CreateTenantPayload, CreateUserInput, Me, UpdateTenantInput } from './dto/tenants.types';
import { Tenant } from './tenant.entity';
import type { TenantService } from './tenant.service';
import { User } from './user.entity';
import type { UserService } from './user.service';
import type { TenantOnboarding } from './tenant-onboarding.service';

@Resolver()
export class TenantsResolver {
  constructor(
    private readonly tenants: TenantService,
    private readonly keys: ApiKeyService,
    private readonly userService: UserService,
    private readonly onboarding: TenantOnboarding,
  ) {}

  @Authorized()
  @Query(() => Me, { description: 'Who is calling: tenant, key and role.' })
  async me(@Ctx() ctx: RequestContext): Promise<Me> {
    return {
      tenant: await this.tenants.get(ctx),
      apiKey: ctx.actor.kind === 'api_key' ? await this.keys.get(ctx, ctx.actor.id) : null,
      role: ctx.actor.role,
      partner: ctx.actor.partner,
    };
  }

  @Authorized()
  @Query(() => Tenant)
  tenant(@Ctx() ctx: RequestContext): Promise<Tenant> {
    return this.tenants.get(ctx);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Tenant)
  updateTenant(@Ctx() ctx: RequestContext, @Arg('input') input: UpdateTenantInput): Promise<Tenant> {
    return this.tenants.update(ctx, input);
  }

  @Authorized(PARTNER)
  @Mutation(() => CreateTenantPayload, { description: 'Partner keys only: a new tenant and its first admin key.' })
  async createTenant(@Ctx() ctx: RequestContext, @Arg('input') input: CreateTenantInput): Promise<CreateTenantPayload> {
    const { tenant, key, secret } = await this.onboarding.createTenant(ctx, input);
    return { tenant, adminKey: { apiKey: key, secret } };
  }

  @Authorized(Role.ADMIN)
  @Query(() => [ApiKey])
  apiKeys(@Ctx() ctx: RequestContext, @Arg('includeRevoked', { defaultValue: false }) includeRevoked: boolean): Promise<ApiKey[]> {
    return this.keys.list(ctx, includeRevoked);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => CreatedApiKey)
  async createApiKey(@Ctx() ctx: RequestContext, @Arg('input') input: CreateApiKeyInput): Promise<CreatedApiKey> {
    const { key, secret } = await this.keys.create(ctx, input);
    return { apiKey: key, secret };
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => ApiKey)
  revokeApiKey(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string): Promise<ApiKey> {
    return this.keys.revoke(ctx, id);
  }

  @Authorized()
  @Query(() => [User], { description: 'The AR team: collectors, managers, directors.' })
  users(@Ctx() ctx: RequestContext): Promise<User[]> {
    return this.userService.list(ctx);
  }

  @Authorized(Role.MANAGER)
  @Mutation(() => User)
  createUser(@Ctx() ctx: RequestContext, @Arg('input') input: CreateUserInput): Promise<User> {
    return this.userService.create(ctx, input);
  }
}
