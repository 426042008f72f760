CREATE TABLE `api_tokens` (
	`name` text PRIMARY KEY NOT NULL,
	`role` text NOT NULL,
	`token_hash` text NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_tokens_token_hash_unique` ON `api_tokens` (`token_hash`);--> statement-breakpoint
CREATE TABLE `changes` (
	`revision` integer PRIMARY KEY NOT NULL,
	`type` text NOT NULL,
	`api_group` text NOT NULL,
	`kind` text NOT NULL,
	`namespace` text NOT NULL,
	`name` text NOT NULL,
	`object` text NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `changes_kind` ON `changes` (`api_group`,`kind`,`revision`);--> statement-breakpoint
CREATE TABLE `mesh_revision` (
	`id` integer PRIMARY KEY NOT NULL,
	`revision` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `resources` (
	`uid` text PRIMARY KEY NOT NULL,
	`api_group` text NOT NULL,
	`kind` text NOT NULL,
	`namespace` text NOT NULL,
	`name` text NOT NULL,
	`labels` text NOT NULL,
	`annotations` text NOT NULL,
	`spec` text NOT NULL,
	`resource_version` integer NOT NULL,
	`generation` integer NOT NULL,
	`creation_timestamp` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `resources_key` ON `resources` (`api_group`,`kind`,`namespace`,`name`);--> statement-breakpoint
CREATE INDEX `resources_revision` ON `resources` (`resource_version`);--> statement-breakpoint
CREATE TABLE `write_guards` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`ok` integer NOT NULL,
	CONSTRAINT "write_guard_precondition" CHECK("write_guards"."ok" = 1)
);
