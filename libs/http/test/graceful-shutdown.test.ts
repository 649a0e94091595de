import Koa from 'koa';
import { Writable } from 'node:stream';
import { installGracefulShutdown, listen } from '@portcullis/http';
import { createLogger } from '@portcullis/observability';

const silent = createLogger({ service: 'test', destination: new Writable({ write: (_c, _e, done) => done() }) });

function slowApp(delayMs: number): Koa {
  const app = new Koa();
  app.use(async (ctx) => {
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    ctx.body = 'finished';
  });
  return app;
}

describe('graceful shutdown', () => {
  it('stops accepting, lets the in-flight request finish, then closes pools and exits 0', async () => {
    const running = await listen(slowApp(300), { host: '127.0.0.1', port: 0 });
    const events: string[] = [];
    const exitCodes: number[] = [];
    const shutdown = installGracefulShutdown({
      logger: silent,
      servers: [running],
      graceMs: 5000,
      closers: [async () => events.push('pool closed')],
      exit: (code) => exitCodes.push(code),
    });

    const inFlight = fetch(`${running.url}/`).then(async (response) => {
      events.push('request finished');
      return { status: response.status, body: await response.text() };
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const done = shutdown();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await expect(fetch(`${running.url}/`)).rejects.toThrow();

    expect(await inFlight).toEqual({ status: 200, body: 'finished' });
    await done;
    expect(events).toEqual(['request finished', 'pool closed']);
    expect(exitCodes).toEqual([0]);
  });

  it('cuts requests that outlast the grace period instead of hanging forever', async () => {
    const running = await listen(slowApp(10_000), { host: '127.0.0.1', port: 0 });
    const exitCodes: number[] = [];
    const shutdown = installGracefulShutdown({
      logger: silent,
      servers: [running],
      graceMs: 100,
      closers: [],
      exit: (code) => exitCodes.push(code),
    });
    const inFlight = fetch(`${running.url}/`).then(
      () => 'answered',
      () => 'cut',
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    await shutdown();
    expect(await inFlight).toBe('cut');
    expect(exitCodes).toEqual([0]);
  });
});
