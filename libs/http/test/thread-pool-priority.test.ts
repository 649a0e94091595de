// In a child process, so the test runner's own thread pool keeps its priority.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const source = fileURLToPath(new URL('../src/thread-pool-priority.ts', import.meta.url));

/** Runs the function in a fresh Node and reports each thread's name and niceness (field 19 of /proc/<tid>/stat). */
function threadsAfterDeprioritising(): Promise<{ lowered: number; threads: { name: string; nice: number }[] }> {
  const script = `
    import { readdirSync, readFileSync } from 'node:fs';
    const { deprioritiseThreadPool } = await import(${JSON.stringify(source)});
    const lowered = await deprioritiseThreadPool();
    const threads = readdirSync('/proc/self/task').map((tid) => {
      const stat = readFileSync('/proc/self/task/' + tid + '/stat', 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return { name: readFileSync('/proc/self/task/' + tid + '/comm', 'utf8').trim(), nice: Number(fields[16]) };
    });
    console.log(JSON.stringify({ lowered, threads }));`;
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      { timeout: 20_000 },
      (error, stdout, stderr) => {
        if (error) return reject(new Error(`${error.message}\n${stderr}`));
        resolve(JSON.parse(stdout.trim().split('\n').at(-1)!));
      },
    );
  });
}

it('runs the thread pool (password hashing) at the lowest priority and leaves the event loop alone', async () => {
  const { lowered, threads } = await threadsAfterDeprioritising();
  const pool = threads.filter((thread) => thread.name === 'libuv-worker');
  expect(pool.length).toBeGreaterThan(0);
  expect(lowered).toBe(pool.length);
  expect(pool.every((thread) => thread.nice === 19)).toBe(true);
  expect(threads.find((thread) => thread.name === 'MainThread')?.nice).toBe(0);
});
