import { GraphQLError } from 'graphql';

/** Codes a client can switch on (`extensions.code`). */
export enum ErrorCode {
  BAD_USER_INPUT = 'BAD_USER_INPUT',
  UNAUTHENTICATED = 'UNAUTHENTICATED',
  FORBIDDEN = 'FORBIDDEN',
  NOT_FOUND = 'NOT_FOUND',
  CONFLICT = 'CONFLICT',
  INTERNAL_SERVER_ERROR = 'INTERNAL_SERVER_ERROR',
}

/** An expected failure that the client caused; its message and field are safe to show. */
export class AppError extends GraphQLError {
  constructor(code: ErrorCode, message: string, opts: { field?: string; reason?: string } = {}) {
    super(message, {
      extensions: { code, ...(opts.field ? { field: opts.field } : {}), ...(opts.reason ? { reason: opts.reason } : {}) },
    });
    this.name = 'AppError';
  }
}

/** `reason` is the module's own error code (e.g. DUE_BEFORE_ISSUE), finer than `code`. */
export const badInput = (field: string, message: string, reason?: string) =>
  new AppError(ErrorCode.BAD_USER_INPUT, message, { field, reason });
export const notFound = (what: string, id: string, field?: string) =>
  new AppError(ErrorCode.NOT_FOUND, `${what} ${id} not found`, { field });
export const forbidden = (message: string) => new AppError(ErrorCode.FORBIDDEN, message);
export const unauthenticated = (message: string) => new AppError(ErrorCode.UNAUTHENTICATED, message);

/** One problem with one field of an input, as returned in the payloads of bulk mutations. */
export interface FieldProblem {
  code: string;
  field: string;
  message: string;
}

/** Collects every problem of one input item, so a client sees them all at once. */
export class Problems {
  readonly list: FieldProblem[] = [];
  add(field: string, code: string, message: string): void {
    this.list.push({ field, code, message });
  }
  get ok(): boolean {
    return this.list.length === 0;
  }
}
