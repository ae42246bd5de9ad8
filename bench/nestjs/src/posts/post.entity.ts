import { Entity, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';

/** The article's entity: table `post_entity` (id serial, title and content varchar(255)). */
@Entity()
export class PostEntity {
  @PrimaryKey()
  id: number;

  @Property()
  title: string;

  @Property()
  content: string;
}
