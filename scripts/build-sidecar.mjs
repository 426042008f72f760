#!/usr/bin/env node
// `npm run build:sidecar`: bundles what the sidecar image runs into dist/sidecar/, so the image needs
// node and nothing from node_modules:
//   weft.mjs            the `weft` CLI (cli/main.ts), `weft sidecar` among its commands
//   weft-iptables.mjs   the init container's capture step alone (cli/commands/iptables.ts weftIptablesMain)
//   chunks/*.mjs        code the two share, and what the CLI imports only when needed (kube-sync's client)
//   original_dst.node   the SO_ORIGINAL_DST addon, copied when `npm run build:native` has built it
// deploy/sidecar/Containerfile copies this directory into the image (see deploy/sidecar/README.md).
import { copyFileSync, existsSync, mkdirSync, rmSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const outDir = join(root, "dist", "sidecar");
const addon = join(root, "edge-proxy", "hosts", "sidecar", "native", "build", "Release", "original_dst.node");

let esbuild;
try {
  esbuild = await import("esbuild");
} catch (error) {
  fail(`cannot load esbuild (${error.message}); run \`npm ci\` first`);
}

// Each entry is a tiny module that calls the real entry point and sets the exit code, as bin/*.mjs do
// (they load the TypeScript sources through tsx; the bundle needs no tsx).
const entries = [
  {
    name: "weft",
    contents: `import { main } from "./cli/main.ts";\nprocess.exitCode = await main(process.argv.slice(2));\n`,
  },
  {
    name: "weft-iptables",
    contents: `import { weftIptablesMain } from "./cli/commands/iptables.ts";\nprocess.exitCode = await weftIptablesMain(process.argv.slice(2));\n`,
  },
];

// ESM output still meets CommonJS dependencies (require() of node built-ins inside bundled CJS code,
// __dirname/__filename): give the bundle a real `require` and both names. `reflect-metadata` needs no
// special handling: the modules that use @peculiar/x509 import "reflect-metadata" first themselves, and
// esbuild keeps module evaluation order.
const banner = [
  "#!/usr/bin/env node",
  'import { createRequire as __weftCreateRequire } from "node:module";',
  'import { fileURLToPath as __weftFileURLToPath } from "node:url";',
  'import { dirname as __weftDirname } from "node:path";',
  "const require = __weftCreateRequire(import.meta.url);",
  "const __filename = __weftFileURLToPath(import.meta.url);",
  "const __dirname = __weftDirname(__filename);",
].join("\n");

rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });

// The entries are virtual modules; with code splitting, what the CLI imports dynamically (the Kubernetes
// client of `weft kube-sync`, most of the bundle) lands in a chunk that `weft sidecar` never loads.
const virtualEntries = {
  name: "weft-entries",
  setup(build) {
    build.onResolve({ filter: /^weft-entry:/ }, (args) => ({ path: args.path.slice("weft-entry:".length), namespace: "weft-entry" }));
    build.onLoad({ filter: /.*/, namespace: "weft-entry" }, (args) => ({
      contents: entries.find((e) => e.name === args.path).contents,
      resolveDir: root,
      loader: "ts",
    }));
  },
};

let result;
try {
  result = await esbuild.build({
    entryPoints: entries.map((e) => ({ in: `weft-entry:${e.name}`, out: e.name })),
    outdir: outDir,
    outExtension: { ".js": ".mjs" },
    chunkNames: "chunks/[name]-[hash]",
    splitting: true,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    banner: { js: banner },
    plugins: [virtualEntries],
    // The addon is loaded at run time from WEFT_NATIVE_ADDON (or next to the bundle), never bundled.
    external: ["*.node"],
    legalComments: "none",
    sourcemap: false,
    minify: false,
    metafile: true,
    logLevel: "silent",
  });
} catch (error) {
  const messages = Array.isArray(error?.errors) && error.errors.length > 0 ? error.errors.map(formatMessage) : [String(error?.message ?? error)];
  fail(`esbuild failed to bundle the sidecar:\n${messages.map((m) => `  ${m}`).join("\n")}`);
}
for (const warning of result.warnings) console.warn(`build-sidecar: warning: ${formatMessage(warning)}`);

const written = Object.keys(result.metafile.outputs).map((file) => resolve(root, file)).sort();
if (existsSync(addon)) {
  const target = join(outDir, "original_dst.node");
  copyFileSync(addon, target);
  written.push(target);
} else {
  console.log(`build-sidecar: ${relative(root, addon)} not built (run \`npm run build:native\`); the bundle is written without it`);
}

for (const file of written) console.log(`build-sidecar: wrote ${relative(root, file)} (${formatSize(statSync(file).size)})`);

function formatMessage(message) {
  const where = message.location ? `${message.location.file}:${message.location.line}:${message.location.column}: ` : "";
  return `${where}${message.text}`;
}

function formatSize(bytes) {
  if (bytes >= 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} B`;
}

function fail(message) {
  console.error(`build-sidecar: ${message}`);
  process.exit(1);
}
