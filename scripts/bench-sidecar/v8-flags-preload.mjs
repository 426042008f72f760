// Preloaded into the sidecars by `npm run bench:sidecar --sidecar-v8-flags "..."`: Node refuses most V8
// flags in NODE_OPTIONS, so they are set here, at startup, from BENCH_V8_FLAGS (v8.setFlagsFromString).
import v8 from "node:v8";

const flags = process.env.BENCH_V8_FLAGS;
if (flags !== undefined && flags !== "") v8.setFlagsFromString(flags);
