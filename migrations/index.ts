import { Foundation1764000000000 } from './1764000000000-foundation';
import { Outreach1764100000000 } from './1764100000000-outreach';
import { Dunning1764100000100 } from './1764100000100-dunning';
import { Payments1764200000000 } from './1764200000000-payments';
import { Aging1764300000000 } from './1764300000000-aging';
import { Worklists1764400000000 } from './1764400000000-worklists';
import { DisputesApprovalsAudit1764400000100 } from './1764400000100-disputes-approvals-audit';
import { RollupStripes1764400000150 } from './1764400000150-rollup-stripes';
import { AgingFold1764400000200 } from './1764400000200-aging-fold';
import { Integrations1764400000300 } from './1764400000300-integrations';
import { InboundEmail1764400000600 } from './1764400000600-inbound-email';
import { Behaviour1764400000700 } from './1764400000700-behaviour';
import { AgingVersions1764400000800 } from './1764400000800-aging-versions';
import { PayerNames1764400000900 } from './1764400000900-payer-names';
import { HotWriteCosts1764401000000 } from './1764401000000-hot-write-costs';
import { JournalLineChecks1764402000000 } from './1764402000000-journal-line-checks';
import { CrossCurrencyAllocations1764403000000 } from './1764403000000-cross-currency-allocations';

/** Every migration, in order. Applied at start and by `npm run migrate`. */
export const migrations = [Foundation1764000000000, Outreach1764100000000, Dunning1764100000100, Payments1764200000000, Aging1764300000000, Worklists1764400000000, DisputesApprovalsAudit1764400000100, RollupStripes1764400000150, AgingFold1764400000200, Integrations1764400000300, InboundEmail1764400000600, Behaviour1764400000700, AgingVersions1764400000800, PayerNames1764400000900, HotWriteCosts1764401000000, JournalLineChecks1764402000000, CrossCurrencyAllocations1764403000000];
