/** Error reasons (`extensions.reason`) of the worklists module. */
export const WorklistErrors = {
  INVALID_RULES: 'INVALID_RULES',
  INVALID_WEIGHT: 'INVALID_WEIGHT',
  UNKNOWN_USER: 'UNKNOWN_USER',
  INACTIVE_USER: 'INACTIVE_USER',
  TASK_CLOSED: 'TASK_CLOSED',
  INVALID_DATE: 'INVALID_DATE',
  NOTE_TOO_LONG: 'NOTE_TOO_LONG',
  SAME_OWNER: 'SAME_OWNER',
} as const;
