/** Every BullMQ queue the platform runs, in one place. */
export enum QueueName {
  /** Housekeeping: heartbeats, snapshots, retention. */
  MAINTENANCE = 'maintenance',
  /** Daily and event-driven evaluation of the book, and the dispatch of due actions. */
  DUNNING = 'dunning',
  /** Payment application on intake and the retry schedule for unapplied cash. */
  PAYMENTS = 'payments',
  /** Connector syncs (pull by cursor) and the write-back outbox. */
  INTEGRATIONS = 'integrations',
  /** Outbound webhook deliveries and their retries. */
  WEBHOOKS = 'webhooks',
  /** Payment behaviour, segmentation and recommendations (daily), and policy backtests. */
  BEHAVIOUR = 'behaviour',
}
