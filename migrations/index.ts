import { Foundation1764000000000 } from './1764000000000-foundation';

/** Every migration, in order. Applied at start and by `npm run migrate`. */
export const migrations = [Foundation1764000000000];
