create table "post_entity" ("id" integer primary key autoincrement, "title" varchar(255) not null, "content" varchar(255) not null);
