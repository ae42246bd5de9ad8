drop table if exists "post_entity" cascade;
