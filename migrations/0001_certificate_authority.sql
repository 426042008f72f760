CREATE TABLE `ca_issuer` (
	`id` integer PRIMARY KEY NOT NULL,
	`certificate_pem` text NOT NULL,
	`chain_pem` text NOT NULL,
	`fingerprint` text NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `ca_roots` (
	`fingerprint` text PRIMARY KEY NOT NULL,
	`certificate_pem` text NOT NULL,
	`subject` text NOT NULL,
	`not_after` text NOT NULL,
	`added_at` text NOT NULL,
	`retired_at` text
);
--> statement-breakpoint
CREATE TABLE `issued_certificates` (
	`serial` text PRIMARY KEY NOT NULL,
	`spiffe_id` text NOT NULL,
	`namespace` text NOT NULL,
	`service_account` text NOT NULL,
	`not_before` text NOT NULL,
	`not_after` text NOT NULL,
	`requester` text NOT NULL,
	`issuer_fingerprint` text NOT NULL,
	`issued_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `issued_identity` ON `issued_certificates` (`namespace`,`service_account`);--> statement-breakpoint
CREATE TABLE `revoked_certificates` (
	`serial` text PRIMARY KEY NOT NULL,
	`revoked_at` text NOT NULL,
	`reason` text
);
