/** A date column read as `YYYY-MM-DD` text, whatever the session's DateStyle. */
export const isoDate = (col: string): string => `to_char(${col}, 'YYYY-MM-DD')`;
