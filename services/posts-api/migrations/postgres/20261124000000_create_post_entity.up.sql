create table "post_entity" ("id" serial primary key, "title" varchar(255) not null, "content" varchar(255) not null);
