import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@mikro-orm/nestjs';
import { EntityRepository, LoadStrategy, QueryOrder } from '@mikro-orm/postgresql';
import { PostEntity } from './post.entity.js';

@Injectable()
export class PostsService {
  constructor(
    @InjectRepository(PostEntity)
    private readonly postRepository: EntityRepository<PostEntity>,
  ) {}

  // The article's `getPosts`, with two additions. It leaves the order to the database; the
  // blog API documents id order, so both send an ORDER BY. And MikroORM 7 joins to-one
  // relations by default (the `balanced` strategy; 6 joined all of them): select-in is what the
  // article's MikroORM sent (one statement for the posts, then one per relation: authors, their
  // addresses, categories through the pivot), and what the blog API sends.
  getPosts() {
    return this.postRepository.findAll({
      populate: ['author', 'author.address', 'categories'],
      orderBy: { id: QueryOrder.ASC },
      strategy: LoadStrategy.SELECT_IN,
    });
  }
}
