import { Collection, type Rel } from '@mikro-orm/core';
import { Entity, OneToMany, OneToOne, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { PostEntity } from '../posts/post.entity.js';
import { Address } from './address.entity.js';

/**
 * Table `user`; the password is hidden from every answer. `Rel<…>` and the target functions
 * are what ES modules need where the article names the type alone: the user and the post
 * import each other, and a class read before its module has run is an error.
 */
@Entity()
export class User {
  @PrimaryKey()
  id: number;

  @Property({ unique: true })
  email: string;

  @Property()
  name: string;

  @Property({ hidden: true })
  password: string;

  @OneToOne(() => Address, { nullable: true })
  address?: Rel<Address>;

  @OneToMany(() => PostEntity, (post: PostEntity) => post.author)
  posts: Collection<PostEntity>;
}
