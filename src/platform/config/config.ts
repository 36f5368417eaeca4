import path from 'node:path';
import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'expected true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const url = (protocols: string[]) =>
  z.string().refine(
    (v) => {
      try {
        return protocols.includes(new URL(v).protocol.replace(':', ''));
      } catch {
        return false;
      }
    },
    { message: `expected a URL with scheme ${protocols.join(' or ')}` },
  );

/** A 32-byte key from 64 hex characters or base64; null when it is neither. */
export function secretKeyBytes(v: string): Buffer | null {
  if (/^[0-9a-f]{64}$/i.test(v)) return Buffer.from(v, 'hex');
  const b = Buffer.from(v, 'base64');
  return b.length === 32 && /^[A-Za-z0-9+/]+={0,2}$/.test(v) ? b : null;
}

/** Development and embedded mode only: a fixed, public key. Production must set its own. */
export const DEV_INTEGRATIONS_SECRET_KEY = 'cmVjb3VwLWRldi1pbnRlZ3JhdGlvbnMta2V5LTAwMDA=';

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  DATABASE_URL: url(['postgres', 'postgresql']).optional(),
  REDIS_URL: url(['redis', 'rediss']).optional(),
  PORT: z.coerce.number({ message: 'expected a port number' }).int().min(0).max(65535).default(4000),
  HOST: z.string().min(1).default('0.0.0.0'),
  DATA_DIR: z.string().min(1).default('./data'),
  EMBEDDED_PG_PORT: z.coerce.number({ message: 'expected a port number' }).int().min(1024).max(65535).default(54329),
  BOOTSTRAP_API_KEY: z.string().min(24, 'expected at least 24 characters').optional(),
  SEED_DEMO: bool.default(true),
  SEED_CUSTOMERS: z.coerce.number().int().min(0).default(500),
  SEED_INVOICES: z.coerce.number().int().min(0).default(5000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  RUN_WORKERS: bool.default(true),
  QUEUE_PREFIX: z.string().regex(/^[a-z0-9_-]+$/i, 'expected letters, digits, - or _').default('recoup'),
  DB_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  GRAPHQL_MAX_DEPTH: z.coerce.number().int().min(2).max(50).default(10),
  GRAPHQL_MAX_COMPLEXITY: z.coerce.number().int().min(100).default(20000),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(15000),
  SMTP_URL: url(['smtp', 'smtps']).optional(),
  SMS_PROVIDER_URL: url(['http', 'https']).optional(),
  SMS_PROVIDER_TOKEN: z.string().min(1).optional(),
  EMAIL_FROM: z
    .string()
    .regex(/^(?:[^<>]*<)?[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+>?$/, 'expected an email address, e.g. billing@example.com or "Billing <billing@example.com>"')
    .default('billing@recoup.local'),
  /** Local hour (0-23, tenant time zone) of the daily dunning evaluation. */
  EVALUATION_HOUR: z.coerce.number({ message: 'expected an hour 0-23' }).int().min(0).max(23).default(6),
  /** Base of the payment and portal links in messages. */
  PORTAL_BASE_URL: url(['http', 'https']).default('https://portal.recoup.local'),
  /** 32-byte key (base64 or hex) encrypting connector credentials and webhook secrets (AES-256-GCM). Required in production. */
  INTEGRATIONS_SECRET_KEY: z
    .string()
    .refine((v) => secretKeyBytes(v) !== null, { message: 'expected 32 bytes as 64 hex characters or base64 (e.g. `openssl rand -base64 32`)' })
    .optional(),
  /** First retry delay of a failed webhook delivery; doubles per attempt (8 attempts). */
  WEBHOOK_RETRY_BASE_MS: z.coerce.number().int().min(100).max(3_600_000).default(10_000),
});

export type Config = z.infer<typeof schema> & {
  /** INTEGRATIONS_SECRET_KEY, or the development key outside production. */
  integrationsKey: Buffer;
  /** Absolute path of DATA_DIR. */
  dataDir: string;
  /** True when no DATABASE_URL is set: the app runs its own PostgreSQL. */
  embedded: boolean;
};

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Reads and validates the environment once; a bad value names the variable and what it expects. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const input: Record<string, string> = {};
  for (const key of Object.keys(schema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== '') input[key] = value;
  }
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message} (got ${JSON.stringify(input[String(i.path[0])] ?? null)})`),
    );
  }
  const c = parsed.data;
  if (!c.INTEGRATIONS_SECRET_KEY && c.NODE_ENV === 'production') {
    throw new ConfigError(['INTEGRATIONS_SECRET_KEY: required when NODE_ENV=production (it encrypts connector credentials and webhook secrets); generate one with `openssl rand -base64 32`']);
  }
  const integrationsKey = secretKeyBytes(c.INTEGRATIONS_SECRET_KEY ?? DEV_INTEGRATIONS_SECRET_KEY)!;
  return { ...c, dataDir: path.resolve(c.DATA_DIR), embedded: !c.DATABASE_URL, integrationsKey };
}

/** For entry points: a bad configuration prints what is wrong and exits 1. */
export function loadConfigOrExit(env: NodeJS.ProcessEnv = process.env): Config {
  try {
    return loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}
