// A client that sends its headers or body slowly must not hold a connection past the deadlines:
// each slow-loris worker would otherwise pin a socket (and a parser) for as long as it likes.
import { connect } from 'node:net';
import Koa from 'koa';
import { koaBodyParser, listen, type RunningServer } from '@portcullis/http';

const REQUEST_TIMEOUT_MS = 1500;

let running: RunningServer;
beforeAll(async () => {
  const app = new Koa();
  app.silent = true; // the 408s are expected here
  app.use(koaBodyParser());
  app.use((ctx) => {
    ctx.body = { received: (ctx.request as { body?: unknown }).body ?? null };
  });
  running = await listen(app, { host: '127.0.0.1', port: 0, requestTimeoutMs: REQUEST_TIMEOUT_MS });
});
afterAll(() => running.close(0));

/** Sends `head`, then one byte of `trickle` a second until the server answers or closes; at most 20 s. */
function trickle(head: string, drip: string): Promise<{ status: string; afterMs: number }> {
  const { port } = new URL(running.url);
  return new Promise((resolve, reject) => {
    const started = Date.now();
    let answer = '';
    const socket = connect(Number(port), '127.0.0.1', () => socket.write(head));
    const timer = setInterval(() => socket.write(drip), 1000);
    const giveUp = setTimeout(() => socket.destroy(new Error('still open after 20 s')), 20_000);
    socket.on('data', (chunk) => (answer += chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      clearInterval(timer);
      clearTimeout(giveUp);
      resolve({ status: answer.split('\r\n')[0] ?? '', afterMs: Date.now() - started });
    });
  });
}

describe('request deadlines', () => {
  it('answers a body that trickles in past the request timeout with 408 and closes the connection', async () => {
    const { status, afterMs } = await trickle(
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{"a":"',
      'x',
    );
    expect(status).toBe('HTTP/1.1 408 Request Timeout');
    // The deadline plus the once-a-second check, with room for a loaded machine.
    expect(afterMs).toBeLessThan(REQUEST_TIMEOUT_MS + 4000);
  });

  it('closes a connection whose headers trickle in past the deadline', async () => {
    const { status, afterMs } = await trickle('GET / HTTP/1.1\r\nHost: x\r\n', 'X-A: b\r\n');
    expect(status).toBe('HTTP/1.1 408 Request Timeout');
    expect(afterMs).toBeLessThan(REQUEST_TIMEOUT_MS + 4000);
  });

  it('serves a request that arrives in time', async () => {
    const response = await fetch(`${running.url}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"a":1}',
    });
    expect(await response.json()).toEqual({ received: { a: 1 } });
  });
});
