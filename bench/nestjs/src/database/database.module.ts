import { Module } from '@nestjs/common';
import { MikroOrmModule } from '@mikro-orm/nestjs';
import { ReflectMetadataProvider } from '@mikro-orm/decorators/legacy';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';

/** Connections in the pool: `POOL_SIZE`, 10 by default, as the posts API's `STRATA_POOL_SIZE`. */
const poolSize = Number(process.env.POOL_SIZE ?? 10);

// The article configures MikroORM from POSTGRES_* variables with the ConfigModule; the
// benchmark passes one DATABASE_URL instead. Entities come from `forFeature` (autoLoadEntities),
// and their property types from the decorators' metadata, as in the article.
@Module({
  imports: [
    MikroOrmModule.forRoot({
      driver: PostgreSqlDriver,
      clientUrl: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
      autoLoadEntities: true,
      metadataProvider: ReflectMetadataProvider,
      pool: { min: 0, max: poolSize },
      debug: false,
    }),
  ],
})
export class DatabaseModule {}
