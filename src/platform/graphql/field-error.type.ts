import { Field, InterfaceType, ObjectType } from 'type-graphql';

@InterfaceType({ description: 'An expected business failure: a code to switch on and a message to show.' })
export abstract class ErrorResult {
  @Field() code: string;
  @Field() message: string;
}

@ObjectType({ implements: ErrorResult, description: 'A problem with one field of an input item.' })
export class FieldError implements ErrorResult {
  @Field() code: string;
  @Field() message: string;
  @Field({ description: 'Path of the field inside the item, e.g. lines.2.amount' }) field: string;
}

