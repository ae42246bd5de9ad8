import { Collection, type Rel } from '@mikro-orm/core';
import { Entity, ManyToMany, ManyToOne, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { Category } from '../categories/category.entity.js';
import { User } from '../users/user.entity.js';

/** Table `post_entity`: `author_id` references `user`, the categories go through `post_entity_categories`. */
@Entity()
export class PostEntity {
  @PrimaryKey()
  id: number;

  @Property()
  title: string;

  @Property()
  content: string;

  @ManyToOne(() => User)
  author: Rel<User>;

  @ManyToMany(() => Category)
  categories: Collection<Category>;
}
