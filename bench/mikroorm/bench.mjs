// The MikroORM peer of the Strata ORM benchmark.
//
// Runs the same scenarios as the Rust program (bench/src/orm.rs) on the same table and data,
// and prints one JSON line per scenario with the time of every measured run:
//
//   {"peer":"mikroorm","version":"7.2.1","node":"v20.20.2"}
//   {"scenario":"insert","n":10000,"times_ms":[…]}
//
// The benchmark program creates the database and the table `post_entity` before it starts
// this script, and drops the database afterwards. Usage:
//
//   node bench.mjs --url postgres://postgres@127.0.0.1:5432/db --runs 7 --warmup 1 \
//       --n 10000 --n-single 1000 --n-rel 1000 [--scenarios insert,update,...]
//
// The relation scenarios (`populate`, `flush_graph`) use the tables `author`, `category`,
// `post` and `post_categories`, which the benchmark program creates too.

import { Collection, EntitySchema } from '@mikro-orm/core';
import { MikroORM } from '@mikro-orm/postgresql';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';

const SCENARIOS = [
  'insert', 'update', 'delete', 'find_by_pk', 'load_all', 'single_flush', 'populate', 'flush_graph',
];
const GRAPH = ['populate', 'flush_graph'];
/** As in the Rust program (bench/src/orm/graph.rs). */
const AUTHORS = 100;
const CATEGORIES = 10;

function parseArgs(argv) {
  const args = {
    runs: 7, warmup: 1, n: 10000, nSingle: 1000, nRel: 1000, scenarios: SCENARIOS, url: null,
  };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    switch (flag) {
      case '--url': args.url = value; break;
      case '--runs': args.runs = positive(flag, value); break;
      case '--warmup': args.warmup = Number.parseInt(value, 10) || 0; break;
      case '--n': args.n = positive(flag, value); break;
      case '--n-single': args.nSingle = positive(flag, value); break;
      case '--n-rel': args.nRel = positive(flag, value); break;
      case '--scenarios': args.scenarios = value.split(',').filter((s) => s.length > 0); break;
      default: throw new Error(`unknown option ${flag}; expected --url, --runs, --warmup, --n, --n-single, --n-rel or --scenarios`);
    }
  }
  if (!args.url) throw new Error('--url postgres://… is required');
  for (const s of args.scenarios) {
    if (!SCENARIOS.includes(s) && s !== 'memory') throw new Error(`unknown scenario ${s}; expected one of ${SCENARIOS.join(', ')}`);
  }
  return args;
}

function positive(flag, value) {
  const n = Number.parseInt(value, 10);
  if (!(n > 0)) throw new Error(`${flag} must be a positive integer, got ${value}`);
  return n;
}

class PostEntity {
  constructor(title, content) {
    this.title = title;
    this.content = content;
  }
}

const PostSchema = new EntitySchema({
  class: PostEntity,
  tableName: 'post_entity',
  properties: {
    id: { type: 'number', primary: true, autoincrement: true },
    title: { type: 'string', length: 255 },
    content: { type: 'string', length: 255 },
  },
});

class Author {
  constructor(email, name) {
    this.email = email;
    this.name = name;
  }
}

class Category {}

class Post {
  constructor(title, content, author) {
    this.title = title;
    this.content = content;
    this.author = author;
    this.categories = new Collection(this);
  }
}

const AuthorSchema = new EntitySchema({
  class: Author,
  tableName: 'author',
  properties: {
    id: { type: 'number', primary: true, autoincrement: true },
    email: { type: 'string', length: 255 },
    name: { type: 'string', length: 255 },
  },
});

const CategorySchema = new EntitySchema({
  class: Category,
  tableName: 'category',
  properties: {
    id: { type: 'number', primary: true, autoincrement: true },
    name: { type: 'string', length: 255 },
  },
});

const PostGraphSchema = new EntitySchema({
  class: Post,
  tableName: 'post',
  properties: {
    id: { type: 'number', primary: true, autoincrement: true },
    title: { type: 'string', length: 255 },
    content: { type: 'string', length: 255 },
    author: { kind: 'm:1', entity: () => Author },
    categories: {
      kind: 'm:n',
      entity: () => Category,
      owner: true,
      pivotTable: 'post_categories',
      joinColumn: 'post_id',
      inverseJoinColumn: 'category_id',
    },
  },
});

/** The categories of new post `i` in `flush_graph`, as in the seed. */
function categoriesOf(i) {
  return [(i % CATEGORIES) + 1, ((i + 1) % CATEGORIES) + 1];
}

/** The same rows the Rust program seeds for the relation scenarios (graph.rs `seed_sql`). */
async function seedGraph(orm, posts) {
  const conn = orm.em.getConnection();
  await conn.execute('TRUNCATE post_categories, post, author, category RESTART IDENTITY');
  await conn.execute(
    `INSERT INTO category (name) SELECT 'category ' || i FROM generate_series(1, ${CATEGORIES}) AS i`,
  );
  if (posts > 0) {
    await conn.execute(
      `INSERT INTO author (email, name)
       SELECT 'author' || i || '@example.com', 'author ' || i FROM generate_series(1, ${AUTHORS}) AS i`,
    );
    await conn.execute(
      `INSERT INTO post (title, content, author_id)
       SELECT 'title ' || i, 'content ' || i, i % ${AUTHORS} + 1 FROM generate_series(1, ${posts}) AS i`,
    );
    await conn.execute(
      `INSERT INTO post_categories (post_id, category_id)
       SELECT i, i % ${CATEGORIES} + 1 FROM generate_series(1, ${posts}) AS i
       UNION ALL
       SELECT i, (i + 1) % ${CATEGORIES} + 1 FROM generate_series(1, ${posts}) AS i`,
    );
  }
}

/** The same rows the Rust program seeds: ids 1..=n, "title i", "content i". */
async function seed(orm, n) {
  const conn = orm.em.getConnection();
  await conn.execute('TRUNCATE post_entity RESTART IDENTITY');
  if (n > 0) {
    await conn.execute(
      `INSERT INTO post_entity (title, content)
       SELECT 'title ' || i, 'content ' || i FROM generate_series(1, ${n}) AS i`,
    );
  }
}

/** One scenario: `prepare` (untimed) returns the timed body. */
const scenarios = {
  insert: (orm, n) => ({
    prepare: async () => {
      await seed(orm, 0);
      const em = orm.em.fork();
      return async () => {
        for (let i = 1; i <= n; i++) em.persist(new PostEntity(`title ${i}`, `content ${i}`));
        await em.flush();
      };
    },
  }),
  update: (orm, n) => ({
    prepare: async (run) => {
      await seed(orm, n);
      const em = orm.em.fork();
      const posts = await em.find(PostEntity, {});
      return async () => {
        for (const p of posts) p.content = `updated ${run} ${p.id}`;
        await em.flush();
      };
    },
  }),
  delete: (orm, n) => ({
    prepare: async () => {
      await seed(orm, n);
      const em = orm.em.fork();
      const posts = await em.find(PostEntity, {});
      return async () => {
        for (const p of posts) em.remove(p);
        await em.flush();
      };
    },
  }),
  find_by_pk: (orm, n) => ({
    prepare: async () => {
      await seed(orm, n);
      return async () => {
        for (let id = 1; id <= n; id++) {
          const post = await orm.em.fork().findOne(PostEntity, id);
          if (!post) throw new Error(`post ${id} not found`);
        }
      };
    },
  }),
  load_all: (orm, n) => ({
    prepare: async () => {
      await seed(orm, n);
      return async () => {
        const posts = await orm.em.fork().find(PostEntity, {});
        if (posts.length !== n) throw new Error(`loaded ${posts.length} posts, expected ${n}`);
      };
    },
  }),
  // persistAndFlush() is gone in v7; em.persist(entity).flush() is its replacement.
  single_flush: (orm, n) => ({
    prepare: async () => {
      await seed(orm, 0);
      return async () => {
        for (let i = 1; i <= n; i++) {
          await orm.em.fork().persist(new PostEntity(`title ${i}`, `content ${i}`)).flush();
        }
      };
    },
  }),
  populate: (orm, n) => ({
    prepare: async () => {
      await seedGraph(orm, n);
      return async () => {
        const posts = await orm.em.fork().find(Post, {}, { populate: ['author', 'categories'] });
        if (posts.length !== n) throw new Error(`loaded ${posts.length} posts, expected ${n}`);
        const whole = posts.every((p) => p.author.email && p.categories.isInitialized()
          && p.categories.length === 2);
        if (!whole) throw new Error('a post without its author or categories');
      };
    },
  }),
  flush_graph: (orm, n) => ({
    prepare: async () => {
      await seedGraph(orm, 0);
      const em = orm.em.fork();
      return async () => {
        for (let i = 1; i <= n; i++) {
          const author = new Author(`author${i}@example.com`, `author ${i}`);
          const post = new Post(`title ${i}`, `content ${i}`, author);
          post.categories.add(categoriesOf(i).map((id) => em.getReference(Category, id)));
          em.persist(post);
        }
        await em.flush();
      };
    },
  }),
};

/** Reads a field of /proc/self/status in KiB (VmRSS, VmHWM). */
async function statusKib(field) {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile('/proc/self/status', 'utf8');
  const line = status.split('\n').find((l) => l.startsWith(`${field}:`));
  if (!line) throw new Error(`no ${field} in /proc/self/status`);
  return Number.parseInt(line.split(/\s+/)[1], 10);
}

/** The memory probe: n posts loaded into a forked EntityManager and kept. */
async function hold(orm, n) {
  const em = orm.em.fork();
  await em.findOne(PostEntity, 1);
  if (global.gc) global.gc();
  const base = await statusKib('VmRSS');
  const posts = await em.find(PostEntity, {});
  if (posts.length !== n) throw new Error(`loaded ${posts.length} posts, expected ${n}`);
  const peak = await statusKib('VmHWM');
  console.log(JSON.stringify({ scenario: 'memory', n, base_kib: base, peak_kib: peak, kept: posts.length }));
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const require = createRequire(import.meta.url);
  const version = require('@mikro-orm/core/package.json').version;
  const orm = await MikroORM.init({
    clientUrl: args.url,
    entities: [PostSchema, AuthorSchema, CategorySchema, PostGraphSchema],
    debug: false,
    pool: { min: 1, max: 10 },
  });
  try {
    console.log(JSON.stringify({ peer: 'mikroorm', version, node: process.version }));
    if (args.scenarios.includes('memory')) {
      await hold(orm, args.n);
      return;
    }
    for (const name of args.scenarios) {
      const n = name === 'single_flush' ? args.nSingle : GRAPH.includes(name) ? args.nRel : args.n;
      const scenario = scenarios[name](orm, n);
      const times = [];
      for (let run = 0; run < args.warmup + args.runs; run++) {
        const body = await scenario.prepare(run);
        const start = performance.now();
        await body();
        const ms = performance.now() - start;
        if (run >= args.warmup) times.push(ms);
      }
      await check(orm, name, n);
      console.log(JSON.stringify({ scenario: name, n, times_ms: times }));
    }
  } finally {
    await orm.close(true);
  }
}

/** The same sanity checks the Rust side makes, so that a fast wrong answer cannot win. */
async function check(orm, name, n) {
  const conn = orm.em.getConnection();
  if (GRAPH.includes(name)) {
    const count = async (table) => (await conn.execute(`SELECT count(*)::int AS c FROM ${table}`))[0].c;
    const flushed = name === 'flush_graph';
    const expected = { post: n, author: flushed ? n : AUTHORS, post_categories: 2 * n, category: CATEGORIES };
    for (const [table, want] of Object.entries(expected)) {
      const found = await count(table);
      if (found !== want) throw new Error(`${name}: ${found} rows in ${table}, expected ${want}`);
    }
    if (flushed) {
      const [{ title, name: author }] = await conn.execute(
        `SELECT p.title, a.name FROM post p JOIN author a ON a.id = p.author_id WHERE p.id = ${n}`,
      );
      if (title !== `title ${n}` || author !== `author ${n}`) {
        throw new Error(`flush_graph: post ${n} is (${title} by ${author}), expected its own new author`);
      }
    }
    return;
  }
  const [{ count }] = await conn.execute('SELECT count(*)::int AS count FROM post_entity');
  const expected = name === 'delete' ? 0 : n;
  if (count !== expected) throw new Error(`${name}: ${count} rows in post_entity, expected ${expected}`);
  if (name === 'update') {
    const [{ changed }] = await conn.execute(
      "SELECT count(*)::int AS changed FROM post_entity WHERE content LIKE 'updated %'",
    );
    if (changed !== n) throw new Error(`update: ${changed} rows changed, expected ${n}`);
  }
}

main().catch((err) => {
  console.error(`mikroorm peer failed: ${err?.stack ?? err}`);
  process.exit(1);
});
