import { Module } from '@nestjs/common';
import { CategoriesModule } from './categories/categories.module.js';
import { DatabaseModule } from './database/database.module.js';
import { PostsModule } from './posts/posts.module.js';

// The article's modules without authentication: `GET /posts` is not guarded.
@Module({
  imports: [DatabaseModule, PostsModule, CategoriesModule],
})
export class AppModule {}
