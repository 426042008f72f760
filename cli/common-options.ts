/**
 * @module cli/common-options
 * Flags several commands share, defined once so they mean the same everywhere (`-f`, `-R`, `-n`).
 */
import type { OptionsConfig } from "./argv.js";

export const FILENAME_OPTIONS = {
  filename: { type: "string", short: "f", multiple: true },
  recursive: { type: "boolean", short: "R" },
} as const satisfies OptionsConfig;

export const NAMESPACE_OPTION = {
  namespace: { type: "string", short: "n" },
} as const satisfies OptionsConfig;

export const FILENAME_HELP = [
  "-f, --filename FILE|DIR|-   a file, a directory of *.yaml, *.yml and *.json files, or - for stdin; may repeat",
  "-R, --recursive             with a directory, read its subdirectories too",
];

export const NAMESPACE_HELP = "-n, --namespace NS          namespace for objects that name none (default \"default\")";
