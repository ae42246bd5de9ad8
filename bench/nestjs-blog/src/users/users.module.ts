import { Module } from '@nestjs/common';
import { MikroOrmModule } from '@mikro-orm/nestjs';
import { User } from './user.entity.js';

@Module({
  imports: [MikroOrmModule.forFeature([User])],
})
export class UsersModule {}
