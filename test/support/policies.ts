/** The typical policy from the field, with three tiers. */
export const typicalPolicy = {
  steps: [
    { key: 'pre-due', offsetDays: -7, channels: ['EMAIL'], templateKey: 'pre-due-reminder', tone: 'FRIENDLY' },
    { key: 'due', offsetDays: 0, channels: ['EMAIL'], templateKey: 'due-today' },
    { key: 'overdue-3', offsetDays: 3, channels: ['EMAIL'], templateKey: 'overdue-friendly' },
    { key: 'overdue-10', offsetDays: 10, channels: ['EMAIL', 'PORTAL'], templateKey: 'overdue-firm', tone: 'FIRM' },
    { key: 'escalation-21', offsetDays: 21, channels: ['EMAIL', 'INTERNAL'], templateKey: 'escalation-notice', tone: 'FIRM', notify: { manager: true } },
    { key: 'hold-30', offsetDays: 30, channels: ['EMAIL'], templateKey: 'credit-hold-notice', tone: 'FINAL', accountFlag: 'HOLD_NOTICE_SENT' },
  ],
  courtesy: { thresholdPercent: 90, steps: [{ key: 'courtesy', offsetDays: 7, channels: ['EMAIL'], templateKey: 'courtesy-balance' }] },
  tiers: [
    { level: 1, name: 'Automated', entry: [{ minDaysPastDue: 1 }] },
    {
      level: 2,
      name: 'Personal outreach',
      entry: [
        { minDaysPastDue: 14, minInvoiceAmount: { amount: '25000.00', currency: 'USD' } },
        { minDaysPastDue: 7, customerTiers: ['strategic'], minDisputes: 1 },
      ],
      actions: [{ type: 'ASSIGN_COLLECTOR' }, { type: 'CREATE_TASK', params: { nextAction: 'Call the AP contact', slaDays: 2 } }],
      stopsAutomatedReminders: true,
    },
    { level: 3, name: 'Management', entry: [{ minDaysPastDue: 60 }], actions: [{ type: 'CREDIT_HOLD', requiresApproval: true }] },
  ],
  personOnlyTiers: [],
};
