import { z } from 'zod';

/**
 * The content of a dunning policy version, validated with zod. It is stored as JSON on the
 * immutable version row; the engine reads it as plain data.
 */
export const STEP_CHANNELS = ['EMAIL', 'SMS', 'PORTAL', 'CALL_TASK', 'INTERNAL'] as const;
export const TONES = ['FRIENDLY', 'NEUTRAL', 'FIRM', 'FINAL'] as const;
export const SENDERS = ['BILLING', 'ACCOUNT_OWNER', 'ASSIGNED_COLLECTOR'] as const;
export const BEHAVIOURS = ['ANY', 'FIRST_TIME_LATE', 'CHRONIC_LATE'] as const;
export const BILLING_MODELS = ['SUBSCRIPTION', 'USAGE', 'SERVICES'] as const;
export const TIER_ACTIONS = ['NOTIFY', 'CREATE_TASK', 'ASSIGN_COLLECTOR', 'SET_CUSTOMER_STATUS', 'CREDIT_HOLD', 'PORTAL_ACCESS', 'CRM_ACTIVITY', 'ERP_WRITEBACK'] as const;

const key = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'use 1-63 lowercase letters, digits or -');
const decimal = z.string().regex(/^\d{1,15}(\.\d{1,4})?$/, 'a non-negative decimal amount like 25000.00');
const money = z.object({ amount: decimal, currency: z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code') });

export const stepConditionsSchema = z
  .object({
    /** The invoice's open (undisputed) amount must reach this, in the invoice's currency. */
    minOpenAmount: money.optional(),
    billingModels: z.array(z.enum(BILLING_MODELS)).min(1).optional(),
    behaviour: z.enum(BEHAVIOURS).default('ANY'),
    segments: z.array(z.string().min(1)).min(1).optional(),
    tiers: z.array(z.string().min(1)).min(1).optional(),
    countries: z.array(z.string().regex(/^[A-Z]{2}$/)).min(1).optional(),
  })
  .strict();

export const stepSchema = z
  .object({
    key,
    offsetDays: z.number().int().min(-90).max(365),
    channels: z.array(z.enum(STEP_CHANNELS)).min(1, 'a step needs at least one channel'),
    templateKey: key,
    tone: z.enum(TONES).default('NEUTRAL'),
    sender: z.enum(SENDERS).default('BILLING'),
    notify: z
      .object({ owner: z.boolean().default(false), manager: z.boolean().default(false), addresses: z.array(z.string().email()).default([]) })
      .strict()
      .optional(),
    /** AUTO sends on the day; APPROVAL prepares a packet that waits for a person. */
    mode: z.enum(['AUTO', 'APPROVAL']).default('AUTO'),
    conditions: stepConditionsSchema.optional(),
    /** A flag set on the customer when this step runs (e.g. HOLD_NOTICE_SENT). */
    accountFlag: z.string().regex(/^[A-Z0-9_]{1,40}$/).optional(),
  })
  .strict();

export const tierConditionSchema = z
  .object({
    /** The customer's most overdue open invoice has at least this many days past due. */
    minDaysPastDue: z.number().int().min(-90).max(3650).optional(),
    /** Some open invoice of at least this amount (in its currency) is at least minDaysPastDue late. */
    minInvoiceAmount: money.optional(),
    /** The customer's overdue total in this currency. */
    minOverdueTotal: money.optional(),
    customerTiers: z.array(z.string().min(1)).min(1).optional(),
    segments: z.array(z.string().min(1)).min(1).optional(),
    minDisputes: z.number().int().min(1).optional(),
    minBrokenPromises: z.number().int().min(1).optional(),
    /** Renewal date within this many days of asOf. */
    renewalWithinDays: z.number().int().min(0).max(730).optional(),
  })
  .strict()
  .refine((c) => Object.keys(c).length > 0, 'a condition group needs at least one condition');

export const tierActionSchema = z
  .object({
    type: z.enum(TIER_ACTIONS),
    /** NOTIFY: who; CREATE_TASK: nextAction and priority; SET_CUSTOMER_STATUS: status; PORTAL_ACCESS: RESTRICTED|ACTIVE; … */
    params: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.array(z.string())])).default({}),
    requiresApproval: z.boolean().default(false),
    /** Names of registered hook functions run before / after the action. */
    hooks: z.object({ before: z.array(z.string()).default([]), after: z.array(z.string()).default([]) }).strict().default({ before: [], after: [] }),
  })
  .strict();

export const tierSchema = z
  .object({
    level: z.number().int().min(1).max(4),
    name: z.string().min(1).max(80),
    /** Any group may match; all conditions inside a group must hold. */
    entry: z.array(tierConditionSchema).min(1, 'a tier needs at least one entry condition group'),
    actions: z.array(tierActionSchema).default([]),
    /** From this tier on, automated reminders stop: people take over. */
    stopsAutomatedReminders: z.boolean().default(false),
  })
  .strict();

export const policyDefinitionSchema = z
  .object({
    steps: z.array(stepSchema).min(1, 'a policy needs at least one step'),
    courtesy: z
      .object({ thresholdPercent: z.number().min(50).max(100).default(90), steps: z.array(stepSchema).default([]) })
      .strict()
      .default({ thresholdPercent: 90, steps: [] }),
    tiers: z.array(tierSchema).default([]),
    /** Customers of these tiers never get automated outreach: every step waits for a person. */
    personOnlyTiers: z.array(z.string().min(1)).default(['strategic']),
  })
  .strict()
  .superRefine((def, ctx) => {
    const checkSteps = (steps: { key: string; offsetDays: number }[], path: string) => {
      const seen = new Set<string>();
      steps.forEach((s, i) => {
        if (seen.has(s.key)) ctx.addIssue({ code: 'custom', path: [path, i, 'key'], message: `step key "${s.key}" is used twice` });
        seen.add(s.key);
        if (i > 0 && s.offsetDays <= steps[i - 1].offsetDays) {
          ctx.addIssue({ code: 'custom', path: [path, i, 'offsetDays'], message: `steps must be in increasing offset order: ${s.offsetDays} follows ${steps[i - 1].offsetDays}` });
        }
      });
    };
    checkSteps(def.steps, 'steps');
    checkSteps(def.courtesy.steps, 'courtesy.steps');
    def.tiers.forEach((t, i) => {
      if (i > 0 && t.level <= def.tiers[i - 1].level) ctx.addIssue({ code: 'custom', path: ['tiers', i, 'level'], message: 'tiers must be in increasing level order' });
    });
  });

export type PolicyDefinition = z.infer<typeof policyDefinitionSchema>;
export type PolicyDefinitionInput = z.input<typeof policyDefinitionSchema>;
export type DunningStep = z.infer<typeof stepSchema>;
export type StepConditions = z.infer<typeof stepConditionsSchema>;
export type EscalationTier = z.infer<typeof tierSchema>;
export type TierCondition = z.infer<typeof tierConditionSchema>;
export type TierAction = z.infer<typeof tierActionSchema>;
export type StepChannel = (typeof STEP_CHANNELS)[number];
