// The article's posts service (NestJS + MikroORM), as a peer of the posts API in the HTTP
// benchmark. The benchmark program builds it with `tsc` and starts it with
//
//   PORT=3000 DATABASE_URL=postgres://postgres@127.0.0.1:5432/db node dist/main.js
//
// on a database whose table `post_entity` the posts API's migrations created.
import 'reflect-metadata';
import { ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';

async function bootstrap(): Promise<void> {
  // Only warnings and errors: a log line per request would slow every answer.
  const app = await NestFactory.create(AppModule, { logger: ['error', 'warn'] });
  app.useGlobalPipes(new ValidationPipe({ transform: true }));
  app.enableShutdownHooks();
  await app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1');
}

void bootstrap();
