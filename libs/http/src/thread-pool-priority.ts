// Password hashing (argon2id, tens of ms of CPU each) runs on libuv's thread pool. On a pod
// with little CPU those threads and the event loop share a core, and a wave of sign-ins would
// slow every other request. The pool's threads run at the lowest priority instead (nice 19):
// when the event loop has work it gets the core; the hashes use what is left, and the password
// queue (PASSWORD_WORK_LIMITS) bounds how many wait. Linux names the threads `libuv-worker`;
// raising a thread's niceness needs no privilege. Elsewhere this does nothing.
import { randomFill } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { setPriority } from 'node:os';

export const THREAD_POOL_NICENESS = 19;

/** Starts the pool (libuv creates its threads on first use) and lowers each thread's priority; returns how many. */
export async function deprioritiseThreadPool(niceness = THREAD_POOL_NICENESS): Promise<number> {
  await new Promise<void>((resolve, reject) =>
    randomFill(Buffer.alloc(1), (error) => (error ? reject(error) : resolve())),
  );
  let tasks: string[];
  try {
    tasks = readdirSync('/proc/self/task');
  } catch {
    return 0;
  }
  let lowered = 0;
  for (const tid of tasks) {
    try {
      if (readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim() !== 'libuv-worker') continue;
      setPriority(Number(tid), niceness);
      lowered += 1;
    } catch {
      // A thread that ended meanwhile, or a system that refuses: the service runs as before.
    }
  }
  return lowered;
}
