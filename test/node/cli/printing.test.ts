// How `weft get` lays out what it prints: kubectl's AGE rounding, table alignment, and the printer
// columns Istio's CRDs declare for each kind.
import { describe, expect, it } from "vitest";
import { humanDuration } from "../../../cli/human-age.js";
import { formatObjects } from "../../../cli/print-objects.js";
import { formatTable } from "../../../cli/print-table.js";
import { resolveKind } from "../../../cli/resolve-kind.js";
import { parse } from "yaml";

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const NOW = new Date("2026-04-26T12:00:00Z");

function object(name: string, createdMsAgo: number, spec: unknown, namespace = "default") {
  return { metadata: { name, namespace, creationTimestamp: new Date(NOW.getTime() - createdMsAgo).toISOString() }, spec };
}

describe("AGE", () => {
  it.each([
    [-5 * SECOND, "<invalid>"],
    [0, "0s"],
    [119 * SECOND, "119s"],
    [2 * MINUTE, "2m"],
    [3 * MINUTE + 20 * SECOND, "3m20s"],
    [17 * MINUTE, "17m"],
    [179 * MINUTE, "179m"],
    [5 * HOUR + 12 * MINUTE, "5h12m"],
    [30 * HOUR, "30h"],
    [3 * DAY + 4 * HOUR, "3d4h"],
    [40 * DAY, "40d"],
    [(2 * 365 + 31) * DAY, "2y31d"],
    [9 * 365 * DAY, "9y"],
  ])("%d ms is %s", (ms, text) => {
    expect(humanDuration(ms)).toBe(text);
  });
});

describe("tables", () => {
  it("upper-cases headers and pads every column but the last by three spaces", () => {
    expect(formatTable(["name", "host"], [["reviews", "reviews.default.svc"], ["a", ""]])).toEqual([
      "NAME      HOST",
      "reviews   reviews.default.svc",
      "a",
    ]);
  });

  it("prints VirtualService gateways and hosts as JSON lists, and NAMESPACE first with -A", () => {
    const lines = formatObjects(
      resolveKind("vs"),
      [object("bookinfo", 90 * SECOND, { hosts: ["*"], gateways: ["bookinfo-gateway"] }, "bookinfo"), object("reviews", 3 * DAY, { hosts: ["reviews"] })],
      { format: "table", asList: true, allNamespaces: true, now: NOW },
    );
    expect(lines).toEqual([
      "NAMESPACE   NAME       GATEWAYS               HOSTS         AGE",
      'bookinfo    bookinfo   ["bookinfo-gateway"]   ["*"]         90s',
      'default     reviews                           ["reviews"]   3d',
    ]);
  });

  it.each([
    ["dr", { host: "reviews" }, ["NAME", "HOST", "AGE"], ["x", "reviews", "5m"]],
    ["gw", { servers: [] }, ["NAME", "AGE"], ["x", "5m"]],
    ["se", { hosts: ["api.example.com"], location: "MESH_EXTERNAL", resolution: "DNS" }, ["NAME", "HOSTS", "LOCATION", "RESOLUTION", "AGE"], ["x", '["api.example.com"]', "MESH_EXTERNAL", "DNS", "5m"]],
    ["pa", { mtls: { mode: "STRICT" } }, ["NAME", "MODE", "AGE"], ["x", "STRICT", "5m"]],
    ["ap", { action: "DENY" }, ["NAME", "ACTION", "AGE"], ["x", "DENY", "5m"]],
    ["sidecars", {}, ["NAME", "AGE"], ["x", "5m"]],
  ])("%s has Istio's printer columns", (alias, spec, headers, cells) => {
    const [header, row] = formatObjects(resolveKind(alias), [object("x", 5 * MINUTE, spec)], { format: "wide", asList: true, allNamespaces: false, now: NOW });
    expect(header?.split(/\s+/)).toEqual(headers);
    expect(row?.split(/\s{2,}/)).toEqual(cells);
  });
});

describe("yaml and json", () => {
  const vs = resolveKind("vs");
  const stored = { apiVersion: "networking.istio.io/v1", kind: "VirtualService", ...object("reviews", MINUTE, { hosts: ["reviews"] }) };

  it("prints a List for a listing, and the object itself for one name", () => {
    const list = parse(formatObjects(vs, [stored], { format: "yaml", asList: true, allNamespaces: false, now: NOW }).join("\n"));
    expect(list).toEqual({ apiVersion: "v1", kind: "List", metadata: { resourceVersion: "" }, items: [stored] });
    const one = JSON.parse(formatObjects(vs, [stored], { format: "json", asList: false, allNamespaces: false, now: NOW }).join("\n"));
    expect(one).toEqual(stored);
  });
});
