export type SessionStoreErrorCode = 'session.too_large' | 'session.invalid_id' | 'session.store_unavailable';

/** Typed errors of the session store; the message never holds a session id or its data. */
export class SessionStoreError extends Error {
  constructor(
    readonly code: SessionStoreErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SessionStoreError';
  }
}
