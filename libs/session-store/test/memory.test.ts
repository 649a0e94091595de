import { createMemoryBackend } from '@portcullis/session-store';
import { runSessionStoreContract } from './contract.js';

runSessionStoreContract('memory', async (clock) => {
  const backend = createMemoryBackend({ clock });
  return { backend, cleanup: () => backend.close() };
});
