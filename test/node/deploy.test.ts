// `wrangler deploy --dry-run` bundles the control-plane Worker as a real deploy would (no network),
// and the shipped webhook manifest is a ValidatingWebhookConfiguration aimed at /webhooks/validate.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { KINDS } from "../../control/resources/kinds.js";

const ROOT = join(import.meta.dirname, "..", "..");

describe("deploy", () => {
  it("wrangler deploy --dry-run builds the Worker bundle", () => {
    const outdir = mkdtempSync(join(tmpdir(), "weft-bundle-"));
    try {
      const output = execFileSync(join(ROOT, "node_modules", ".bin", "wrangler"), ["deploy", "--dry-run", "--outdir", outdir], {
        cwd: ROOT,
        env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" },
        encoding: "utf8",
      });
      expect(output).toContain("--dry-run: exiting now.");
      expect(output).toMatch(/env\.DB \(weft\)\s+D1 Database/);
      const bundle = readdirSync(outdir).find((f) => f.endsWith(".js"));
      expect(bundle).toBeDefined();
      const code = readFileSync(join(outdir, bundle!), "utf8");
      expect(code).toContain("/webhooks/validate");
      expect(code.length).toBeGreaterThan(100_000);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });

  it("wrangler deploy -c wrangler.gateway.toml --dry-run builds the edge gateway Worker with its control-plane binding", () => {
    const outdir = mkdtempSync(join(tmpdir(), "weft-gateway-bundle-"));
    try {
      const output = execFileSync(join(ROOT, "node_modules", ".bin", "wrangler"), ["deploy", "-c", "wrangler.gateway.toml", "--dry-run", "--outdir", outdir], {
        cwd: ROOT,
        env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" },
        encoding: "utf8",
      });
      expect(output).toContain("--dry-run: exiting now.");
      expect(output).toMatch(/env\.CONTROL_PLANE \(weft-control-plane\)\s+Worker/);
      const bundle = readdirSync(outdir).find((f) => f.endsWith(".js"));
      expect(bundle).toBeDefined();
      expect(readFileSync(join(outdir, bundle!), "utf8")).toContain("x-weft-flag");
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });

  it("ships a ValidatingWebhookConfiguration for every kind Weft validates", () => {
    const path = join(ROOT, "deploy", "kubernetes", "validating-webhook.yaml");
    expect(existsSync(path)).toBe(true);
    const manifest = parse(readFileSync(path, "utf8"));
    expect(manifest.kind).toBe("ValidatingWebhookConfiguration");
    const hook = manifest.webhooks[0];
    expect(hook.admissionReviewVersions).toEqual(["v1"]);
    expect(hook.clientConfig.url).toMatch(/\/webhooks\/validate$/);
    const covered = hook.rules.flatMap((r: { apiGroups: string[]; resources: string[] }) => r.resources.map((res) => `${r.apiGroups[0]}/${res}`));
    for (const k of KINDS) expect(covered).toContain(`${k.group}/${k.plural}`);
  });
});
