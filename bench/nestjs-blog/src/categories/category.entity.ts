import { Entity, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';

/** Table `category`. */
@Entity()
export class Category {
  @PrimaryKey()
  id: number;

  @Property()
  name: string;
}
