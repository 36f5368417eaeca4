import { Field, InputType, Int, ObjectType } from 'type-graphql';
import { Role } from '../../../platform/auth/roles';
import { Money } from '../../../platform/graphql/money.type';
import { ApprovalKind } from '../approval-request.entity';

@InputType()
export class ApprovalEscalationInput {
  @Field({ description: 'Decimal; above it the role below decides.' }) above: string;
  @Field(() => Role) minRole: Role;
}

@InputType()
export class ApprovalFastPathInput {
  @Field({ description: 'Decimal; at or below it the rule approves by itself.' }) maxAmount: string;
  @Field(() => [String], { nullable: true, description: 'Customer tiers never fast-pathed; default ["strategic"].' }) excludeTiers?: string[] | null;
}

@InputType()
export class ApprovalRuleInput {
  @Field(() => ApprovalKind) kind: ApprovalKind;
  @Field(() => Boolean, { nullable: true, description: 'Default true.' }) requiresApproval?: boolean | null;
  @Field(() => String, { nullable: true, description: 'Currency of the amounts; default the tenant\'s functional currency.' }) currency?: string | null;
  @Field(() => String, { nullable: true, description: 'Decimal; at or below it no approval is needed.' }) threshold?: string | null;
  @Field(() => Role, { nullable: true, description: 'Default MANAGER; a collector can never approve.' }) minRole?: Role | null;
  @Field(() => [ApprovalEscalationInput], { nullable: true }) escalations?: ApprovalEscalationInput[] | null;
  @Field(() => ApprovalFastPathInput, { nullable: true }) fastPath?: ApprovalFastPathInput | null;
  @Field(() => Int, { nullable: true, description: 'Undecided requests expire after this many hours; default 72.' }) expiresAfterHours?: number | null;
}

@ObjectType()
export class ApprovalEscalation {
  @Field(() => Money) above: Money;
  @Field(() => Role) minRole: Role;
}

@ObjectType()
export class ApprovalFastPath {
  @Field(() => Money) maxAmount: Money;
  @Field(() => [String]) excludeTiers: string[];
}

@ObjectType({ description: 'Whether a kind of request needs a person, whom, by amount, and the fast path.' })
export class ApprovalRuleType {
  @Field(() => ApprovalKind) kind: ApprovalKind;
  @Field() requiresApproval: boolean;
  @Field(() => String, { nullable: true }) currency: string | null;
  @Field(() => Money, { nullable: true }) threshold: Money | null;
  @Field(() => Role) minRole: Role;
  @Field(() => [ApprovalEscalation]) escalations: ApprovalEscalation[];
  @Field(() => ApprovalFastPath, { nullable: true }) fastPath: ApprovalFastPath | null;
  @Field(() => Int) expiresAfterHours: number;
}
