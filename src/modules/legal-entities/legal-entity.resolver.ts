import { Arg, Authorized, Field, InputType, Mutation, Query, Resolver } from 'type-graphql';
import { Length } from 'class-validator';
import { Role } from '../../platform/auth/roles';
import type { RequestContext } from '../../platform/context';
import { Ctx } from '../../platform/graphql/gql-context';
import { LegalEntity } from './legal-entity.entity';
import type { LegalEntityService } from './legal-entity.service';

@InputType()
export class UpsertEntityInput {
  @Field() @Length(1, 64) code: string;
  @Field() @Length(1, 200) name: string;
  @Field() currency: string;
  @Field(() => String, { nullable: true }) country?: string | null;
}

@Resolver(() => LegalEntity)
export class LegalEntityResolver {
  constructor(private readonly entityService: LegalEntityService) {}

  @Authorized()
  @Query(() => [LegalEntity])
  entities(@Ctx() ctx: RequestContext): Promise<LegalEntity[]> {
    return this.entityService.list(ctx);
  }

  @Authorized(Role.MANAGER)
  @Mutation(() => [LegalEntity], { description: 'Create or update legal entities by code (at most 100).' })
  upsertEntities(@Ctx() ctx: RequestContext, @Arg('input', () => [UpsertEntityInput]) input: UpsertEntityInput[]): Promise<LegalEntity[]> {
    return this.entityService.upsert(ctx, input);
  }
}
