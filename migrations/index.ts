import { Foundation1764000000000 } from './1764000000000-foundation';
import { Outreach1764100000000 } from './1764100000000-outreach';
import { Dunning1764100000100 } from './1764100000100-dunning';

/** Every migration, in order. Applied at start and by `npm run migrate`. */
export const migrations = [Foundation1764000000000, Outreach1764100000000, Dunning1764100000100];
