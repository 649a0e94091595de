import { hash } from '@node-rs/argon2';

/**
 * argon2id with auth-session's parameters (OWASP minimum: m = 19 MiB, t = 2, p = 1), for the
 * temporary password of a new tenant admin; auth-session verifies it (the PHC string carries
 * the parameters) and makes them change it.
 */
// algorithm 2 = Algorithm.Argon2id (a const enum, which isolated modules cannot import).
export const ARGON2_PARAMETERS = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export function createPasswordHashing(parameters: { algorithm: 2; memoryCost: number; timeCost: number; parallelism: number } = ARGON2_PARAMETERS) {
  return { hash: (password: string) => hash(password.normalize('NFC'), parameters) };
}
