import { Entity, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';

/** Table `address`. */
@Entity()
export class Address {
  @PrimaryKey()
  id: number;

  @Property()
  street: string;

  @Property()
  city: string;

  @Property()
  country: string;
}
