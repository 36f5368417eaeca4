/** Every BullMQ queue the platform runs, in one place. */
export enum QueueName {
  /** Housekeeping: heartbeats, snapshots, retention. */
  MAINTENANCE = 'maintenance',
}
