import { Module } from '@nestjs/common';
import { MikroOrmModule } from '@mikro-orm/nestjs';
import { ReflectMetadataProvider } from '@mikro-orm/decorators/legacy';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';
import { Address } from '../users/address.entity.js';

/** Connections in the pool: `POOL_SIZE`, 10 by default, as the blog API's `STRATA_POOL_SIZE`. */
const poolSize = Number(process.env.POOL_SIZE ?? 10);

// As in the article: entities come from `forFeature` (autoLoadEntities), plus `Address`, which
// no module registers. The article configures MikroORM from POSTGRES_* variables with the
// ConfigModule; the benchmark passes one DATABASE_URL instead.
@Module({
  imports: [
    MikroOrmModule.forRoot({
      driver: PostgreSqlDriver,
      clientUrl: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
      autoLoadEntities: true,
      entities: [Address],
      metadataProvider: ReflectMetadataProvider,
      pool: { min: 0, max: poolSize },
      debug: false,
    }),
  ],
})
export class DatabaseModule {}
