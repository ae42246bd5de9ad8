import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@mikro-orm/nestjs';
import { EntityManager, EntityRepository, QueryOrder, wrap } from '@mikro-orm/postgresql';
import { CreatePostDto } from './dto/createPost.dto.js';
import { UpdatePostDto } from './dto/updatePost.dto.js';
import { PostNotFoundException } from './exceptions/postNotFound.exception.js';
import { PostEntity } from './post.entity.js';

// The article's service. MikroORM 7 dropped `persistAndFlush` and `removeAndFlush`; their
// replacements (`persist(…).flush()`, `remove(…).flush()`) send the same statements. The
// EntityManager is the request's fork (the MikroORM module's request context).
@Injectable()
export class PostsService {
  constructor(
    @InjectRepository(PostEntity)
    private readonly postRepository: EntityRepository<PostEntity>,
    private readonly em: EntityManager,
  ) {}

  // The article's `findAll()` leaves the order to the database; the rebuilt service documents
  // id order, so every peer sends the same ORDER BY.
  getPosts() {
    return this.postRepository.findAll({ orderBy: { id: QueryOrder.ASC } });
  }

  async getPostById(id: number) {
    const post = await this.postRepository.findOne({ id });
    if (!post) {
      throw new PostNotFoundException(id);
    }
    return post;
  }

  async createPost(post: CreatePostDto) {
    const newPost = this.postRepository.create(post);
    await this.em.persist(newPost).flush();
    return newPost;
  }

  async updatePost(id: number, post: UpdatePostDto) {
    const existingPost = await this.getPostById(id);
    wrap(existingPost).assign(post);
    await this.em.persist(existingPost).flush();
    return existingPost;
  }

  async deletePost(id: number) {
    const post = await this.getPostById(id);
    await this.em.remove(post).flush();
  }
}
