import type { Command } from 'commander';
import { generateKey } from '@portcullis/crypto';

export function registerKeyCommands(program: Command): void {
  const keys = program.command('keys').description('Encryption keys (see docs/key-rotation.md)');
  keys
    .command('generate')
    .description('Print a new random 32-byte key, base64, for MFA_*_ENCRYPTION_KEY')
    .action(() => {
      process.stdout.write(`${generateKey()}\n`);
    });
}
