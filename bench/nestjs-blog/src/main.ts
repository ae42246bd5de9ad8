// The blog service of article #63 (NestJS + MikroORM), reduced to the route the HTTP benchmark
// loads: `GET /posts`, every post with its author (and the author's address) and its
// categories. The benchmark program builds it with `tsc` and starts it with
//
//   PORT=3000 DATABASE_URL=postgres://postgres@127.0.0.1:5432/db node dist/main.js
//
// on a database whose tables the blog API's migrations created.
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';

async function bootstrap(): Promise<void> {
  // Only warnings and errors: a log line per request would slow every answer.
  const app = await NestFactory.create(AppModule, { logger: ['error', 'warn'] });
  app.enableShutdownHooks();
  await app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1');
}

void bootstrap();
