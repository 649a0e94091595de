import { generateSecret, generateURI, verify } from 'otplib';

export const TOTP_PERIOD_SECONDS = 30;

/** RFC 6238 TOTP: 30 s steps, 6 digits, SHA-1 (what authenticator apps support), ±1 step. */
export function createTotp(clock: { now(): number }, issuer = 'Portcullis') {
  return {
    newSecret: () => generateSecret({ length: 20 }),
    uri: (secret: string, account: string) => generateURI({ issuer, label: account, secret }),
    /** The time-step the code belongs to, or null. Replay protection is the caller's (claimTotpStep). */
    async matchStep(secret: string, code: string, afterStep?: number): Promise<number | null> {
      if (!/^\d{6}$/.test(code)) return null;
      const result = await verify({
        secret,
        token: code,
        epoch: Math.floor(clock.now() / 1000),
        epochTolerance: TOTP_PERIOD_SECONDS,
        ...(afterStep !== undefined ? { afterTimeStep: afterStep } : {}),
      });
      return result.valid && 'timeStep' in result ? result.timeStep : null;
    },
  };
}

export type Totp = ReturnType<typeof createTotp>;
