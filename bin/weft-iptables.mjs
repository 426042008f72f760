#!/usr/bin/env node
// Launcher for weft-iptables (the sidecar init container's capture step): loads the TypeScript sources
// through tsx, so no build step is needed. Same as `weft iptables`, without the rest of the CLI.
import { register } from "tsx/esm/api";

register();
const { weftIptablesMain } = await import("../cli/commands/iptables.ts");
process.exitCode = await weftIptablesMain(process.argv.slice(2));
