// SESSION_STORE_PHASE: what each phase derives, the combinations refused at start-up (the ones
// libs/session-store/test/mixed-phase.test.ts and dual-faults.test.ts show unsafe), the old
// variables read with a deprecation warning, and which phases may run side by side.
import {
  areAdjacent,
  ConfigError,
  loadConfig,
  nextPosition,
  phaseLabel,
  previousPosition,
  sessionPhaseInfo,
  type PhasePosition,
} from '@portcullis/config';

const base = {
  DATABASE_URL: 'postgres://portcullis@127.0.0.1:5432/portcullis',
  SESSION_SECRET: 'a'.repeat(20) + 'B7f9Q2xZ4kLmN8pR3tUv',
};

function problemsOf(env: Record<string, string>) {
  try {
    loadConfig({ ...base, ...env });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected the configuration to be refused');
}

const derivedOf = (env: Record<string, string>) => {
  const config = loadConfig({ ...base, ...env });
  return {
    phase: phaseLabel({
      phase: config.SESSION_STORE_PHASE,
      from: config.SESSION_STORE_FROM,
      to: config.SESSION_STORE_TO,
    }),
    driver: config.SESSION_STORE_DRIVER,
    primary: config.SESSION_STORE_PRIMARY,
    secondary: config.SESSION_STORE_SECONDARY,
    fallback: config.SESSION_DUAL_FALLBACK_ON_MISS,
    repair: config.SESSION_DUAL_READ_REPAIR,
    ttl: config.SESSION_RETIRING_STORE_TTL_SECONDS,
  };
};

describe('one phase value', () => {
  it.each([
    [
      'single',
      { SESSION_STORE_PHASE: 'single', SESSION_STORE_FROM: 'knex' },
      {
        phase: 'single(knex)',
        driver: 'knex',
        primary: undefined,
        secondary: undefined,
        fallback: false,
        repair: false,
        ttl: undefined,
      },
    ],
    [
      'dual-write',
      { SESSION_STORE_PHASE: 'dual-write', SESSION_STORE_FROM: 'knex', SESSION_STORE_TO: 'dynamodb' },
      {
        phase: 'dual-write(knex→dynamodb)',
        driver: 'dual',
        primary: 'knex',
        secondary: 'dynamodb',
        fallback: false,
        repair: false,
        ttl: undefined,
      },
    ],
    [
      'cutover',
      { SESSION_STORE_PHASE: 'cutover', SESSION_STORE_FROM: 'knex', SESSION_STORE_TO: 'dynamodb' },
      {
        phase: 'cutover(knex→dynamodb)',
        driver: 'dual',
        primary: 'dynamodb',
        secondary: 'knex',
        fallback: true,
        repair: false,
        ttl: undefined,
      },
    ],
    [
      'retiring',
      { SESSION_STORE_PHASE: 'retiring', SESSION_STORE_FROM: 'knex', SESSION_STORE_TO: 'dynamodb' },
      {
        phase: 'retiring(knex→dynamodb)',
        driver: 'dual',
        primary: 'dynamodb',
        secondary: 'knex',
        fallback: false,
        repair: false,
        ttl: 900,
      },
    ],
    [
      'retiring with its TTL tuned',
      {
        SESSION_STORE_PHASE: 'retiring',
        SESSION_STORE_FROM: 'knex',
        SESSION_STORE_TO: 'dynamodb',
        SESSION_RETIRING_STORE_TTL_SECONDS: '600',
      },
      {
        phase: 'retiring(knex→dynamodb)',
        driver: 'dual',
        primary: 'dynamodb',
        secondary: 'knex',
        fallback: false,
        repair: false,
        ttl: 600,
      },
    ],
    [
      'nothing set (development)',
      {},
      {
        phase: 'single(memory)',
        driver: 'memory',
        primary: undefined,
        secondary: undefined,
        fallback: false,
        repair: false,
        ttl: undefined,
      },
    ],
  ])('derives every store setting of %s', (_, env, expected) => {
    expect(derivedOf(env)).toEqual(expected);
  });
});

describe('start-up refuses', () => {
  it.each([
    [
      'fallback on miss left at its old default true (bad in dual-write and retiring)',
      { SESSION_STORE_DRIVER: 'dual', SESSION_STORE_PRIMARY: 'knex', SESSION_STORE_SECONDARY: 'dynamodb' },
      'SESSION_DUAL_FALLBACK_ON_MISS',
      /SESSION_STORE_PHASE=dual-write SESSION_STORE_FROM=knex SESSION_STORE_TO=dynamodb.*SESSION_STORE_PHASE=cutover SESSION_STORE_FROM=dynamodb SESSION_STORE_TO=knex/,
    ],
    [
      'fallback on miss with the retiring TTL (brings back a logout of a single-store pod)',
      {
        SESSION_STORE_DRIVER: 'dual',
        SESSION_STORE_PRIMARY: 'dynamodb',
        SESSION_STORE_SECONDARY: 'knex',
        SESSION_DUAL_FALLBACK_ON_MISS: 'true',
        SESSION_RETIRING_STORE_TTL_SECONDS: '900',
      },
      'SESSION_DUAL_FALLBACK_ON_MISS',
      /SESSION_STORE_PHASE=retiring SESSION_STORE_FROM=knex SESSION_STORE_TO=dynamodb$/,
    ],
    [
      'read repair (undoes a logout for good)',
      {
        SESSION_STORE_DRIVER: 'dual',
        SESSION_STORE_PRIMARY: 'knex',
        SESSION_STORE_SECONDARY: 'dynamodb',
        SESSION_DUAL_FALLBACK_ON_MISS: 'false',
        SESSION_DUAL_READ_REPAIR: 'true',
      },
      'SESSION_DUAL_READ_REPAIR',
      /SESSION_STORE_PHASE=dual-write SESSION_STORE_FROM=knex SESSION_STORE_TO=dynamodb$/,
    ],
    [
      'an old variable beside the phase',
      {
        SESSION_STORE_PHASE: 'dual-write',
        SESSION_STORE_FROM: 'knex',
        SESSION_STORE_TO: 'dynamodb',
        SESSION_DUAL_FALLBACK_ON_MISS: 'true',
      },
      'SESSION_DUAL_FALLBACK_ON_MISS',
      /is derived from SESSION_STORE_PHASE; remove it/,
    ],
    [
      'a second store in the single phase',
      { SESSION_STORE_PHASE: 'single', SESSION_STORE_FROM: 'knex', SESSION_STORE_TO: 'dynamodb' },
      'SESSION_STORE_TO',
      /set SESSION_STORE_PHASE=dual-write to start a move/,
    ],
    [
      'a dual phase without the store sessions move to',
      { SESSION_STORE_PHASE: 'cutover', SESSION_STORE_FROM: 'knex' },
      'SESSION_STORE_TO',
      /is required in the cutover phase/,
    ],
    [
      'a move from a store to itself',
      { SESSION_STORE_PHASE: 'dual-write', SESSION_STORE_FROM: 'knex', SESSION_STORE_TO: 'knex' },
      'SESSION_STORE_TO',
      /must differ/,
    ],
    [
      'stores without a phase',
      { SESSION_STORE_FROM: 'knex' },
      'SESSION_STORE_PHASE',
      /is required when SESSION_STORE_FROM is set/,
    ],
    [
      'a phase without its store',
      { SESSION_STORE_PHASE: 'single' },
      'SESSION_STORE_FROM',
      /is required with SESSION_STORE_PHASE/,
    ],
  ])('%s, naming the safe phase', (_, env, variable, message) => {
    const problems = problemsOf(env);
    expect(problems.map((problem) => problem.variable)).toEqual([variable]);
    expect(problems[0]!.message).toMatch(message);
  });

  it('the memory store in any phase in production', () => {
    const problems = problemsOf({
      NODE_ENV: 'production',
      SESSION_STORE_PHASE: 'dual-write',
      SESSION_STORE_FROM: 'knex',
      SESSION_STORE_TO: 'memory',
    });
    expect(problems.find((problem) => /memory store/.test(problem.message))).toBeDefined();
  });
});

describe('the old variables, for one release', () => {
  it.each([
    [
      'single',
      { SESSION_STORE_DRIVER: 'redis', REDIS_URL: 'redis://127.0.0.1:6379' },
      'single(redis)',
      'SESSION_STORE_PHASE=single SESSION_STORE_FROM=redis',
    ],
    [
      'dual-write',
      {
        SESSION_STORE_DRIVER: 'dual',
        SESSION_STORE_PRIMARY: 'knex',
        SESSION_STORE_SECONDARY: 'dynamodb',
        SESSION_DUAL_FALLBACK_ON_MISS: 'false',
        SESSION_DUAL_READ_REPAIR: 'false',
      },
      'dual-write(knex→dynamodb)',
      'SESSION_STORE_PHASE=dual-write SESSION_STORE_FROM=knex SESSION_STORE_TO=dynamodb',
    ],
    [
      'cutover',
      {
        SESSION_STORE_DRIVER: 'dual',
        SESSION_STORE_PRIMARY: 'dynamodb',
        SESSION_STORE_SECONDARY: 'knex',
        SESSION_DUAL_FALLBACK_ON_MISS: 'true',
      },
      'cutover(knex→dynamodb)',
      'SESSION_STORE_PHASE=cutover SESSION_STORE_FROM=knex SESSION_STORE_TO=dynamodb',
    ],
    [
      'retiring',
      {
        SESSION_STORE_DRIVER: 'dual',
        SESSION_STORE_PRIMARY: 'dynamodb',
        SESSION_STORE_SECONDARY: 'knex',
        SESSION_DUAL_FALLBACK_ON_MISS: 'false',
        SESSION_RETIRING_STORE_TTL_SECONDS: '300',
      },
      'retiring(knex→dynamodb)',
      'SESSION_STORE_PHASE=retiring SESSION_STORE_FROM=knex SESSION_STORE_TO=dynamodb',
    ],
  ])('reads a safe %s configuration as its phase and warns with the replacement', (_, env, phase, replacement) => {
    expect(derivedOf(env).phase).toBe(phase);
    const warnings: string[] = [];
    loadConfig({ ...base, ...env }, { warn: (message) => warnings.push(message) });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(replacement);
    expect(warnings[0]).toMatch(/deprecated and will not be read in the next release/);
  });

  it('does not warn about a configuration spelled with the phase', () => {
    const warnings: string[] = [];
    loadConfig(
      { ...base, SESSION_STORE_PHASE: 'cutover', SESSION_STORE_FROM: 'knex', SESSION_STORE_TO: 'dynamodb' },
      { warn: (message) => warnings.push(message) },
    );
    expect(warnings).toEqual([]);
  });

  it('derives the retiring TTL from the old variable', () => {
    expect(
      derivedOf({
        SESSION_STORE_DRIVER: 'dual',
        SESSION_STORE_PRIMARY: 'dynamodb',
        SESSION_STORE_SECONDARY: 'knex',
        SESSION_DUAL_FALLBACK_ON_MISS: 'false',
        SESSION_RETIRING_STORE_TTL_SECONDS: '300',
      }).ttl,
    ).toBe(300);
  });
});

describe('phases side by side', () => {
  const move: PhasePosition[] = [
    { phase: 'single', from: 'knex' },
    { phase: 'dual-write', from: 'knex', to: 'dynamodb' },
    { phase: 'cutover', from: 'knex', to: 'dynamodb' },
    { phase: 'retiring', from: 'knex', to: 'dynamodb' },
    { phase: 'single', from: 'dynamodb' },
  ];

  it('allows exactly the neighbouring steps of a move', () => {
    const matrix = move.map((a) => move.map((b) => (areAdjacent(a, b) ? 1 : 0)));
    expect(matrix).toEqual([
      [1, 1, 0, 0, 0],
      [1, 1, 1, 0, 0],
      [0, 1, 1, 1, 0],
      [0, 0, 1, 1, 1],
      [0, 0, 0, 1, 1],
    ]);
  });

  it('keeps two moves apart: a dual phase of another pair is never a neighbour', () => {
    expect(
      areAdjacent(
        { phase: 'dual-write', from: 'knex', to: 'dynamodb' },
        { phase: 'dual-write', from: 'knex', to: 'redis' },
      ),
    ).toBe(false);
    expect(areAdjacent({ phase: 'single', from: 'redis' }, { phase: 'dual-write', from: 'knex', to: 'dynamodb' })).toBe(
      false,
    );
    expect(
      areAdjacent({ phase: 'single', from: 'dynamodb' }, { phase: 'dual-write', from: 'dynamodb', to: 'knex' }),
    ).toBe(true);
  });

  it('steps forward through the move and back again', () => {
    const forward = [move[0]!];
    let at: PhasePosition | undefined = move[1];
    while (at) {
      forward.push(at);
      at = nextPosition(at);
    }
    expect(forward.map(phaseLabel)).toEqual(move.map(phaseLabel));
    expect(move.slice(1, 4).map((position) => phaseLabel(previousPosition(position)!))).toEqual(
      move.slice(0, 3).map(phaseLabel),
    );
  });
});

describe('what a pod exports about its phase', () => {
  it('labels the phase, a hash that tells two settings apart, and the neighbouring phases', () => {
    const info = (env: Record<string, string>) => sessionPhaseInfo(loadConfig({ ...base, ...env }));
    const cutover = info({ SESSION_STORE_PHASE: 'cutover', SESSION_STORE_FROM: 'knex', SESSION_STORE_TO: 'dynamodb' });
    expect(cutover).toMatchObject({
      phase: 'cutover',
      from: 'knex',
      to: 'dynamodb',
      configHash: expect.stringMatching(/^[0-9a-f]{12}$/),
    });
    expect(cutover.compatible.map((position) => `${position.phase}:${position.from}:${position.to}`)).toEqual([
      'cutover:knex:dynamodb',
      'dual-write:knex:dynamodb',
      'retiring:knex:dynamodb',
    ]);
    const retiring = (ttl: string) =>
      info({
        SESSION_STORE_PHASE: 'retiring',
        SESSION_STORE_FROM: 'knex',
        SESSION_STORE_TO: 'dynamodb',
        SESSION_RETIRING_STORE_TTL_SECONDS: ttl,
      });
    expect(retiring('600').configHash).not.toBe(retiring('900').configHash);
    expect(
      info({ SESSION_STORE_PHASE: 'single', SESSION_STORE_FROM: 'redis', REDIS_URL: 'redis://127.0.0.1:6379' }).to,
    ).toBe('');
  });
});
