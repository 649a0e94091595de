// RFC 6238 TOTP as Portcullis reads it everywhere: HMAC-SHA1, 6 digits, 30 s steps, ±1 step
// (what authenticator apps support). auth-session's sign-in and enrolment and the CLI's
// break-glass approval and drill all use this one implementation, so they cannot disagree.
import { generateSecret, generateSync, generateURI, verify } from 'otplib';

export const TOTP_PERIOD_SECONDS = 30;

/** A stored or typed TOTP secret otplib cannot read (not base32, or under 16 bytes). */
export class TotpSecretError extends Error {
  constructor() {
    super('the TOTP secret is not base32 of at least 16 bytes');
    this.name = 'TotpSecretError';
  }
}

// otplib's own error would quote a character of the secret: the secret never reaches an error.
const bare = (secret: string) => secret.replace(/=+$/, '');
const secretError = (): never => {
  throw new TotpSecretError();
};

/** The time step `ms` (Unix epoch milliseconds) falls in. */
export const totpStepAt = (ms: number): number => Math.floor(ms / (1000 * TOTP_PERIOD_SECONDS));

/** The code an authenticator shows during `step`: the drill signs in as one. */
export function totpCodeAt(secret: string, step: number): string {
  try {
    return generateSync({ secret: bare(secret), epoch: step * TOTP_PERIOD_SECONDS });
  } catch {
    return secretError();
  }
}

export function createTotp(clock: { now(): number }, issuer = 'Portcullis') {
  return {
    newSecret: () => generateSecret({ length: 20 }),
    uri: (secret: string, account: string) => generateURI({ issuer, label: account, secret }),
    /** The time-step the code belongs to, or null. Replay protection is the caller's (a claimed step). */
    async matchStep(secret: string, code: string, afterStep?: number): Promise<number | null> {
      if (!/^\d{6}$/.test(code)) return null;
      const result = await verify({
        secret: bare(secret),
        token: code,
        epoch: Math.floor(clock.now() / 1000),
        epochTolerance: TOTP_PERIOD_SECONDS,
        ...(afterStep !== undefined ? { afterTimeStep: afterStep } : {}),
      }).catch(secretError);
      return result.valid && 'timeStep' in result ? result.timeStep : null;
    },
  };
}

export type Totp = ReturnType<typeof createTotp>;
