// The tables a conversion covers and the names of everything it creates on them, in one place
// so the way forward, the way back and the contract agree.

export interface TimestampColumn {
  name: string;
  /** Nullability of the legacy column, kept by the timestamptz column. */
  nullable: boolean;
}

export interface TimestampTable {
  /** Primary key `id` (bigint or uuid): batches walk it in order. */
  table: string;
  columns: TimestampColumn[];
}

/** The timestamptz column while the conversion runs, before it takes the legacy name. */
export const pendingColumn = (column: string): string => `${column}_tz`;
/** The original text column after the swap, until the contract migration drops it. */
export const legacyColumn = (column: string): string => `${column}_legacy`;
/** Proves every legacy value was parsed; lets SET NOT NULL skip its table scan. */
export const parsedCheck = (column: string): string => `portcullis_${column}_parsed`;
/** The way back's twin of parsedCheck: the text column is filled where NOT NULL. */
export const filledCheck = (column: string): string => `portcullis_${column}_legacy_filled`;

export const SYNC_TRIGGER = 'portcullis_sync_timestamps';
export const syncFunction = (table: string): string => `portcullis_sync_${table}`;
