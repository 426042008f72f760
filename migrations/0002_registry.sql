CREATE TABLE `kube_objects` (
	`cluster` text NOT NULL,
	`kind` text NOT NULL,
	`namespace` text NOT NULL,
	`name` text NOT NULL,
	`object` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `kube_objects_key` ON `kube_objects` (`cluster`,`kind`,`namespace`,`name`);--> statement-breakpoint
CREATE TABLE `proxy_status` (
	`proxy_id` text PRIMARY KEY NOT NULL,
	`sent_version` text,
	`sent_at` text,
	`acked_version` text,
	`acked_at` text,
	`nack_version` text,
	`nack_reason` text,
	`nack_at` text
);
--> statement-breakpoint
CREATE TABLE `registry_revision` (
	`id` integer PRIMARY KEY NOT NULL,
	`revision` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `workloads` (
	`id` text PRIMARY KEY NOT NULL,
	`namespace` text NOT NULL,
	`name` text NOT NULL,
	`service_account` text NOT NULL,
	`address` text NOT NULL,
	`labels` text NOT NULL,
	`ports` text NOT NULL,
	`node` text,
	`proxy_kind` text NOT NULL,
	`gateways` text NOT NULL,
	`registered_by` text NOT NULL,
	`registered_at` text NOT NULL,
	`last_seen_at` text NOT NULL,
	`expires_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `workloads_namespace` ON `workloads` (`namespace`);--> statement-breakpoint
CREATE INDEX `workloads_expiry` ON `workloads` (`expires_at`);