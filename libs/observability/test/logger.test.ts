import { Writable } from 'node:stream';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createLogger, LOG_BUFFER, requestLineWriter } from '@portcullis/observability';

function captureLines(): { stream: Writable; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  return { stream, lines };
}

describe('createLogger', () => {
  it('never writes a redacted field to a log line, at any depth', () => {
    const { stream, lines } = captureLines();
    const logger = createLogger({ service: 'test', destination: stream });
    const secrets = {
      password: 'pw-Correct-Horse-1',
      newPassword: 'pw-Battery-Staple-2',
      totpCode: '492039',
      code: '771204',
      recoveryCodes: ['rc-aaaa-bbbb', 'rc-cccc-dddd'],
      totp_secret: 'JBSWY3DPEHPK3PXP',
      sessionSecret: 'ss-very-secret-signing-key',
      encryptionKey: 'ek-base64-key-material',
      previous_totp_secret: 'PREVIOUSSECRET234',
      previous_recovery_code_hashes: 'prev-hashes-json',
      authorization: 'Bearer tok-abc',
    };
    logger.info({ user: { id: 'u1', ...secrets }, list: [{ previous_enrolled_at: 'prev-enrolled-2024' }] }, 'sign-in');
    logger.info(
      {
        req: {
          method: 'GET',
          headers: { authorization: 'Bearer hdr-token-1', cookie: 'portcullis.sid=cookie-value-1' },
        },
      },
      'request',
    );
    logger.info({ res: { headers: { 'set-cookie': 'portcullis.sid=cookie-value-2' } } }, 'response');

    const output = lines.join('\n');
    expect(lines).toHaveLength(3);
    for (const value of [
      ...Object.values(secrets).flat(),
      'prev-enrolled-2024',
      'hdr-token-1',
      'cookie-value-1',
      'cookie-value-2',
    ]) {
      expect(output).not.toContain(value);
    }
    // What is not sensitive still arrives, so redaction is not just "drop everything".
    expect(JSON.parse(lines[0]!)).toMatchObject({
      service: 'test',
      msg: 'sign-in',
      user: { id: 'u1', password: '[redacted]' },
    });
    expect(JSON.parse(lines[1]!)).toMatchObject({ req: { method: 'GET', headers: { authorization: '[redacted]' } } });
  });

  it('logs an error by type, message, stack and named fields, never what a library hung on it', () => {
    const { stream, lines } = captureLines();
    const logger = createLogger({ service: 'test', destination: stream });
    // What a body parser throws for a truncated JSON body: the raw request rides along.
    const parseError = Object.assign(new SyntaxError('Unexpected end of JSON input'), {
      status: 400,
      body: '{"email":"a@example.com","password":"pw-Hunter-22',
      rawBody: 'pw-Hunter-22',
    });
    const wrapped = new Error('request failed', {
      cause: Object.assign(new Error('insert failed'), {
        code: '23505',
        constraint: 'tenant_admins_email',
        parameters: ['pw-Param-33'],
      }),
    });
    logger.error({ err: parseError }, 'parse');
    logger.error({ err: wrapped, nested: { error: parseError } }, 'nested');

    const output = lines.join('\n');
    for (const value of ['pw-Hunter-22', 'pw-Param-33']) expect(output).not.toContain(value);
    expect(JSON.parse(lines[0]!).err).toMatchObject({
      type: 'SyntaxError',
      message: 'Unexpected end of JSON input',
      status: 400,
    });
    expect(JSON.parse(lines[0]!).err.stack).toContain('SyntaxError');
    expect(JSON.parse(lines[1]!).err.cause).toMatchObject({
      message: 'insert failed',
      code: '23505',
      constraint: 'tenant_admins_email',
    });
    expect(JSON.parse(lines[1]!).nested.error).toMatchObject({ type: 'SyntaxError', status: 400 });
  });

  it('writes one JSON object per line with level names and an ISO time', () => {
    const { stream, lines } = captureLines();
    createLogger({ service: 'audit-log', destination: stream }).warn({ tenant: 'acme' }, 'hello');
    const line = JSON.parse(lines[0]!);
    expect(line).toMatchObject({ level: 'warn', service: 'audit-log', tenant: 'acme', msg: 'hello' });
    expect(new Date(line.time).toISOString()).toBe(line.time);
  });

  it('writes the request line in the format of every other line, JSON-escaped, and not below its level', () => {
    const { stream, lines } = captureLines();
    const logger = createLogger({ service: 'auth-session', destination: stream });
    const fields = { requestId: 'req-1', method: 'GET', route: '/auth/"odd"\\route', status: 200, durationMs: 0.4 };
    logger.info(fields, 'request');
    requestLineWriter(logger)(fields);
    requestLineWriter(logger)({ ...fields, route: undefined, status: 404 });
    const [viaPino, written, unmatched] = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(Object.keys(written!)).toEqual(Object.keys(viaPino!));
    expect({ ...written, time: undefined }).toEqual({ ...viaPino, time: undefined });
    expect(new Date(written!.time as string).toISOString()).toBe(written!.time);
    expect(unmatched).not.toHaveProperty('route');

    const quiet = captureLines();
    requestLineWriter(createLogger({ service: 'x', level: 'warn', destination: quiet.stream }))(fields);
    expect(quiet.lines).toEqual([]);
  });
});

describe('bufferedStdout', () => {
  // A process that logs through it and then exits, or stays quiet: every line reaches stdout.
  const run = (script: string) =>
    promisify(execFile)(
      process.execPath,
      [
        '--conditions=development',
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `import { bufferedStdout, createLogger } from '@portcullis/observability';
         const logger = createLogger({ service: 'buffered', destination: bufferedStdout() });
         for (let i = 0; i < 3; i++) logger.info({ i }, 'line');
         ${script}`,
      ],
      { cwd: join(import.meta.dirname, '..'), timeout: 20_000 },
    );

  it('writes buffered lines when the process exits, also through process.exit after an error', async () => {
    const { stdout } = await run(`logger.error('about to exit'); process.exit(3);`).catch(
      (failure: { stdout: string }) => failure,
    );
    expect(
      stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line).msg),
    ).toEqual(['line', 'line', 'line', 'about to exit']);
  });

  it('writes them at once on logger.flush() (the "listening" line), before anything written after it', async () => {
    // Killed right after: neither the exit handler nor the periodic flush can have written them.
    const { stdout } = await run(
      `import { writeSync } from 'node:fs'; logger.flush(); writeSync(1, 'CHECK\\n'); process.kill(process.pid, 'SIGKILL');`,
    ).catch((failure: { stdout: string }) => failure);
    expect(
      stdout
        .trim()
        .split('\n')
        .map((line) => (line.startsWith('{') ? JSON.parse(line).msg : line)),
    ).toEqual(['line', 'line', 'line', 'CHECK']);
  });

  it('writes them within its flush interval while the process stays up', async () => {
    // Killed (SIGKILL: no exit handler runs) 1.5 s after the flush interval: only the periodic flush can have written them.
    const { stdout } = await run(
      `import { writeSync } from 'node:fs'; setTimeout(() => { writeSync(1, 'CHECK\\n'); process.kill(process.pid, 'SIGKILL'); }, ${LOG_BUFFER.flushMs + 1500});`,
    ).catch((failure: { stdout: string }) => failure);
    expect(stdout.split('\n').filter((line) => line.startsWith('{')).length).toBe(3);
    expect(stdout).toContain('CHECK');
  });
});
