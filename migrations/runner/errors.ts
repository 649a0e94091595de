// Failures an operator acts on. Each message is one sentence naming the problem and what to do;
// the CLI maps the class to an exit code (docs/db-migration.md).

export class MigrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export interface UnparseableValue {
  table: string;
  id: string;
  column: string;
  /** The stored text, exactly. */
  raw: string;
}

/** Legacy values that are not a supported timestamp form: the swap did not happen. */
export class UnparseableTimestampsError extends MigrationError {
  constructor(
    readonly values: UnparseableValue[],
    /** All such values in the table; `values` may hold the first ones only. */
    readonly total: number,
  ) {
    const tables = [...new Set(values.map((value) => value.table))].join(', ');
    super(
      `${total} legacy timestamp value${total === 1 ? '' : 's'} in ${tables} cannot be parsed, so no column was swapped: ` +
        'correct them (the list follows; see docs/db-migration.md for the accepted forms) and run the migration again',
    );
  }
}

/** Another runner held the migration lock for longer than we were told to wait. */
export class RunnerLockTimeoutError extends MigrationError {}

/** A table lock stayed out of reach for the whole retry window. */
export class LockUnavailableError extends MigrationError {}

/** The database is in a state this run must not continue from (e.g. another time zone). */
export class MigrationStateError extends MigrationError {}
