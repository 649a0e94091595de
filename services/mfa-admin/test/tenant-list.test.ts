// The tenants list: search, sort and keyset pages, through the JSON API and the server-rendered
// GET form, on the real PostgreSQL of the harness.
import { randomUUID } from 'node:crypto';
import type request from 'supertest';
import {
  createAdminHarness,
  json,
  signIn,
  type AdminHarness,
  type Built,
} from '../../../test/support/admin-harness.js';

const html = { Accept: 'text/html' };

let h: AdminHarness;
let built: Built;
let operator: ReturnType<typeof request.agent>;
beforeAll(async () => {
  h = await createAdminHarness();
  built = h.build();
  operator = await signIn(built.agent(), h.clock, await h.seedPlatformAdmin());
});
afterAll(() => h.close());

/** Tenants of one test, found by their shared marker; created_at given to the microsecond (text, as PostgreSQL reads it). */
async function seed(rows: { slug: string; name: string; createdAt: string }[]) {
  const inserted = rows.map((row) => ({ id: randomUUID(), ...row }));
  await h.db('tenants').insert(
    inserted.map((row) => ({
      id: row.id,
      slug: row.slug,
      name: row.name,
      status: 'active',
      created_at: h.db.raw('?::timestamptz', [row.createdAt]),
      updated_at: new Date(),
    })),
  );
  return inserted;
}

const marker = () => randomUUID().slice(0, 6);
const slugsOf = (body: { tenants: { slug: string }[] }) => body.tenants.map((tenant) => tenant.slug);

/** Walks every page forward with `after`, then back with `before`, and returns both walks. */
async function walk(query: Record<string, string>) {
  const forward: string[][] = [];
  let after: string | undefined;
  let last: { prevCursor: string | null; hasPrevious: boolean } | undefined;
  for (let page = 0; page < 50; page++) {
    const response = await operator
      .get('/admin/tenants')
      .query({ ...query, ...(after ? { after } : {}) })
      .set(json)
      .expect(200);
    forward.push(slugsOf(response.body));
    expect(response.body.hasPrevious).toBe(page > 0);
    last = response.body;
    if (!response.body.hasNext) {
      expect(response.body.nextCursor).toBeNull();
      break;
    }
    after = response.body.nextCursor;
  }
  const backward: string[][] = [forward.at(-1)!];
  let before = last!.hasPrevious ? last!.prevCursor : null;
  for (let page = 0; before && page < 50; page++) {
    const response = await operator
      .get('/admin/tenants')
      .query({ ...query, before })
      .set(json)
      .expect(200);
    backward.unshift(slugsOf(response.body));
    before = response.body.hasPrevious ? response.body.prevCursor : null;
  }
  return { forward, backward };
}

describe('search', () => {
  it('finds tenants by part of the slug or the name, in any case', async () => {
    const m = marker();
    await seed([
      { slug: `north-${m}`, name: 'Northwind Traders', createdAt: '2026-01-01T00:00:00Z' },
      { slug: `south-${m}`, name: `Southern ${m.toUpperCase()} Goods`, createdAt: '2026-01-02T00:00:00Z' },
      { slug: `east-${randomUUID().slice(0, 6)}`, name: 'Eastern', createdAt: '2026-01-03T00:00:00Z' },
    ]);
    const bySlug = await operator
      .get('/admin/tenants')
      .query({ q: `NORTH-${m.toUpperCase()}` })
      .set(json)
      .expect(200);
    expect(slugsOf(bySlug.body)).toEqual([`north-${m}`]);
    const byName = await operator.get('/admin/tenants').query({ q: 'northWIND' }).set(json).expect(200);
    expect(slugsOf(byName.body)).toContain(`north-${m}`);
    // The marker is in one slug and (upper-cased) in another's name: both, nothing else.
    const both = await operator.get('/admin/tenants').query({ q: m }).set(json).expect(200);
    expect(slugsOf(both.body).sort()).toEqual([`north-${m}`, `south-${m}`]);
    expect(both.body.tenants[0]).toMatchObject({ adminCount: 0, status: 'active' });
  });

  it('matches %, _ and \\ as themselves, not as LIKE wildcards', async () => {
    const m = marker();
    await seed([
      { slug: `pct-${m}`, name: `Sale 5%_off ${m}`, createdAt: '2026-01-01T00:00:00Z' },
      { slug: `plain-${m}`, name: `Sale 5XYoff ${m}`, createdAt: '2026-01-01T00:00:00Z' },
      { slug: `slash-${m}`, name: `Back\\slash ${m}`, createdAt: '2026-01-01T00:00:00Z' },
      { slug: `nosl-${m}`, name: `Backslash ${m}`, createdAt: '2026-01-01T00:00:00Z' },
    ]);
    const literal = await operator.get('/admin/tenants').query({ q: '5%_off' }).set(json).expect(200);
    expect(slugsOf(literal.body)).toEqual([`pct-${m}`]);
    const underscore = await operator
      .get('/admin/tenants')
      .query({ q: `_off ${m}` })
      .set(json)
      .expect(200);
    expect(slugsOf(underscore.body)).toEqual([`pct-${m}`]);
    const backslash = await operator.get('/admin/tenants').query({ q: 'k\\s' }).set(json).expect(200);
    expect(slugsOf(backslash.body)).toEqual([`slash-${m}`]);
  });
});

describe('sort and pages', () => {
  it('walks every sort and order in pages of 2 with no tenant repeated or missed, forward and back', async () => {
    const m = marker();
    // Ties on name and on created_at (the id decides), and times a microsecond apart (a cursor
    // rounded to milliseconds would repeat or skip them).
    await seed([
      { slug: `a-${m}`, name: `Same ${m}`, createdAt: '2026-02-01T10:00:00.000001Z' },
      { slug: `b-${m}`, name: `Alpha ${m}`, createdAt: '2026-02-01T10:00:00.000002Z' },
      { slug: `c-${m}`, name: `Same ${m}`, createdAt: '2026-02-01T10:00:00.000002Z' },
      { slug: `d-${m}`, name: `Zulu ${m}`, createdAt: '2026-01-15T00:00:00Z' },
      { slug: `e-${m}`, name: `Same ${m}`, createdAt: '2026-02-01T10:00:00.000001Z' },
      { slug: `f-${m}`, name: `Mid ${m}`, createdAt: '2026-03-01T00:00:00Z' },
      { slug: `g-${m}`, name: `Alpha ${m}`, createdAt: '2026-02-01T10:00:00.000002Z' },
    ]);
    const columns = { slug: 'slug', name: 'name', created: 'created_at' } as const;
    for (const sort of ['slug', 'name', 'created'] as const) {
      for (const order of ['asc', 'desc'] as const) {
        // The order PostgreSQL itself gives, unpaged: what the pages must add up to.
        const expected = await h
          .db('tenants')
          .where('slug', 'like', `%-${m}`)
          .orderBy([
            { column: columns[sort], order },
            { column: 'id', order },
          ])
          .pluck('slug');
        const { forward, backward } = await walk({ q: m, sort, order, limit: '2' });
        expect({ sort, order, pages: forward.map((page) => page.length) }).toEqual({
          sort,
          order,
          pages: [2, 2, 2, 1],
        });
        expect(forward.flat()).toEqual(expected);
        expect(backward).toEqual(forward);
      }
    }
  });

  it('keeps its place when tenants are created between two pages', async () => {
    const m = marker();
    await seed(
      ['c', 'e', 'g', 'i'].map((letter) => ({
        slug: `${letter}-${m}`,
        name: letter,
        createdAt: '2026-01-01T00:00:00Z',
      })),
    );
    const first = await operator.get('/admin/tenants').query({ q: m, limit: 2 }).set(json).expect(200);
    expect(slugsOf(first.body)).toEqual([`c-${m}`, `e-${m}`]);
    // One before the boundary (an offset would now repeat e), one after it.
    await seed([
      { slug: `a-${m}`, name: 'a', createdAt: '2026-01-01T00:00:00Z' },
      { slug: `f-${m}`, name: 'f', createdAt: '2026-01-01T00:00:00Z' },
    ]);
    const second = await operator
      .get('/admin/tenants')
      .query({ q: m, limit: 2, after: first.body.nextCursor })
      .set(json)
      .expect(200);
    expect(slugsOf(second.body)).toEqual([`f-${m}`, `g-${m}`]);
  });

  it('treats empty fields as not given (browsers send every field of the form)', async () => {
    const response = await operator.get('/admin/tenants?q=&sort=&order=&limit=&after=&before=').set(json).expect(200);
    expect(response.body).toMatchObject({ hasPrevious: false, prevCursor: null });
    expect(response.body.tenants.length).toBeLessThanOrEqual(25);
  });
});

describe('bad parameters', () => {
  it('answers 400 naming the parameter and what it must be', async () => {
    const slugCursor = (await operator.get('/admin/tenants').query({ limit: 1 }).set(json).expect(200)).body
      .nextCursor as string;
    expect(slugCursor).toEqual(expect.any(String));
    const id = randomUUID();
    const cursorOf = (parts: string[]) => Buffer.from(JSON.stringify(parts)).toString('base64url');
    // A well-formed created cursor is accepted (the same shape the server hands out).
    await operator
      .get('/admin/tenants')
      .query({ sort: 'created', after: cursorOf(['created', '2026-02-28T23:59:59.000001Z', id]) })
      .set(json)
      .expect(200);
    const cases: [string, RegExp][] = [
      ['sort=size', /sort: must be one of slug, name, created/],
      ['order=up', /order: must be asc or desc/],
      ['limit=0', /limit: must be at least 1/],
      ['limit=101', /limit: must be at most 100/],
      ['limit=ten', /limit: must be a number/],
      ['limit=2.5', /limit: must be a whole number/],
      ['after=not-a-cursor', /after: must be a cursor from a previous page/],
      [`after=${cursorOf(['slug', 'x', '1'])}`, /after: must be a cursor/],
      // Values the database could not compare (a cast error would be a 500): refused up front.
      [`sort=created&after=${cursorOf(['created', '2026-02-31T00:00:00.000000Z', id])}`, /after: must be a cursor/],
      [`sort=created&after=${cursorOf(['created', 'yesterday', id])}`, /after: must be a cursor/],
      [`after=${cursorOf(['slug', 'a\u0000b', id])}`, /after: must be a cursor/],
      [`after=${slugCursor}&before=${slugCursor}`, /before: give after or before, not both/],
      [`sort=name&after=${slugCursor}`, /after: is a cursor of the slug order, not of name/],
      [`q=${'x'.repeat(101)}`, /q: must have at most 100 characters/],
      ['q=a&q=b', /q: must be given once/],
      ['q=%01', /q: must not contain control characters/],
    ];
    for (const [query, message] of cases) {
      const response = await operator.get(`/admin/tenants?${query}`).set(json);
      expect({ query, status: response.status, code: response.body.code }).toEqual({
        query,
        status: 400,
        code: 'request.invalid',
      });
      expect(response.body.message).toMatch(message);
    }
    // A browser gets the message on a page, not JSON.
    const page = await operator.get('/admin/tenants?limit=0').set(html).expect(400);
    expect(page.type).toBe('text/html');
    expect(page.text).toContain('limit: must be at least 1');
  });
});

describe('the page', () => {
  it('searches, sorts and pages through its GET form, keeping the query in the links', async () => {
    const m = marker();
    await seed(
      ['q', 'r', 's'].map((letter, index) => ({
        slug: `${letter}-${m}`,
        name: `Shop ${letter} ${m} <b>`,
        createdAt: `2026-04-0${index + 1}T00:00:00Z`,
      })),
    );
    const start = await operator.get('/admin/tenants').set(html).expect(200);
    expect(start.headers['cache-control']).toContain('no-store');
    // The form as a browser reads it: a GET to the list with these fields, none required.
    const form = /<form method="get" action="\/admin\/tenants"[^>]*>([\s\S]*?)<\/form>/.exec(start.text)![1]!;
    const fields = [...form.matchAll(/<(?:input|select) id="[^"]+" name="([^"]+)"/g)].map((match) => match[1]);
    expect(fields).toEqual(['q', 'sort', 'order', 'limit']);
    expect(form).not.toContain('required');
    expect(form).toContain('<label for="q">');

    // What the browser sends when the admin types the marker, picks "Created, newest first" and 10 per page… then 1 per page by hand.
    const first = await operator
      .get('/admin/tenants')
      .query({ q: ` ${m.toUpperCase()} `, sort: 'created', order: 'desc', limit: '10' })
      .set(html)
      .expect(200);
    expect(first.text).toContain(`value="${m.toUpperCase()}"`);
    expect(first.text).toContain('<option value="created" selected>');
    expect(first.text).toContain('<option value="desc" selected>');
    expect(first.text).toContain(`Shop s ${m} &lt;b&gt;`);
    expect(first.text).not.toContain('rel="next"');

    const paged = await operator
      .get('/admin/tenants')
      .query({ q: m, sort: 'created', order: 'desc', limit: '1' })
      .set(html);
    const links = (text: string) => ({
      next: /<a rel="next" href="([^"]+)"/.exec(text)?.[1]?.replaceAll('&amp;', '&'),
      prev: /<a rel="prev" href="([^"]+)"/.exec(text)?.[1]?.replaceAll('&amp;', '&'),
    });
    const rows = (text: string) =>
      [...text.matchAll(/<td><a href="\/admin\/tenants\/[^"]+">([^<]+)<\/a><\/td>/g)].map((match) => match[1]);
    expect(rows(paged.text)).toEqual([`s-${m}`]);
    const next = links(paged.text).next!;
    expect(next).toMatch(new RegExp(`^/admin/tenants\\?q=${m}&sort=created&order=desc&limit=1&after=`));
    const second = await operator.get(next).set(html).expect(200);
    expect(rows(second.text)).toEqual([`r-${m}`]);
    const third = await operator.get(links(second.text).next!).set(html).expect(200);
    expect(rows(third.text)).toEqual([`q-${m}`]);
    expect(links(third.text).next).toBeUndefined();
    const back = await operator.get(links(third.text).prev!).set(html).expect(200);
    expect(rows(back.text)).toEqual([`r-${m}`]);
    const none = await operator
      .get('/admin/tenants')
      .query({ q: `nothing-${m}` })
      .set(html)
      .expect(200);
    expect(none.text).toContain(`No tenant matches “nothing-${m}”.`);
  });
});
