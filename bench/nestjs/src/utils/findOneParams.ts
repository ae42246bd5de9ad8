import { Type } from 'class-transformer';
import { IsNumber } from 'class-validator';

/** `:id` as a number (`Number()`), or a 400 with class-validator's message. */
export class FindOneParams {
  @IsNumber()
  @Type(() => Number)
  id: number;
}
