import { Module } from '@nestjs/common';
import { DatabaseModule } from './database/database.module.js';
import { PostsModule } from './posts/posts.module.js';

@Module({
  imports: [DatabaseModule, PostsModule],
})
export class AppModule {}
