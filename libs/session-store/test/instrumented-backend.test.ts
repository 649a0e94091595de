import { Registry } from 'prom-client';
import {
  createDualBackend,
  createMemoryBackend,
  createSessionStoreMetrics,
  instrumentBackend,
  type SessionBackend,
} from '@portcullis/session-store';

it('times every operation under its store and operation, and counts the failures', async () => {
  const registry = new Registry();
  const clock = { now: () => 1_000 };
  const backend = createMemoryBackend({ clock });
  const metrics = createSessionStoreMetrics(registry);
  const store = instrumentBackend(backend, metrics, 'memory');
  await store.put({ hash: 'a'.repeat(64), userId: 'tenant:1', data: '{}', expiresAt: 60_000 });
  await store.getMany(['a'.repeat(64), 'b'.repeat(64)]);
  await store.getMany(['a'.repeat(64)]);
  const down = instrumentBackend(
    { ...backend, get: () => Promise.reject(new Error('store down')) } as SessionBackend,
    metrics,
    'memory',
  );
  await expect(down.get('a'.repeat(64))).rejects.toThrow('store down');
  const text = await registry.metrics();
  const count = (op: string) =>
    Number(
      new RegExp(`session_store_operation_duration_seconds_count\\{store="memory",op="${op}"\\} (\\d+)`).exec(
        text,
      )?.[1],
    );
  expect([count('put'), count('getMany'), count('get')]).toEqual([1, 2, 1]);
  expect(text).toContain('session_store_errors_total{store="memory",op="get"} 1');
  // Every operation's error series exists from the start: a quiet store shows 0, not "no data".
  expect(text).toContain('session_store_errors_total{store="memory",op="put"} 0');
});

it('shows the secondary write failures of a dual store as 0 before the first one', async () => {
  const registry = new Registry();
  const metrics = createSessionStoreMetrics(registry);
  createDualBackend({ primary: createMemoryBackend(), secondary: createMemoryBackend(), metrics });
  const text = await registry.metrics();
  for (const op of ['put', 'delete', 'deleteByUser'])
    expect(text).toContain(`session_store_dual_write_failures_total{store="memory",op="${op}"} 0`);
});
