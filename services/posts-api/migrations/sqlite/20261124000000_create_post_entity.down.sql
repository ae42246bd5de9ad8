drop table "post_entity";
