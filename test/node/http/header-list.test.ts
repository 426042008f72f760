// HeaderList against the web Headers it stands in for: the same operations give the same `get` answers,
// while forEach and getAll keep repeated fields apart in arrival order.
import { describe, expect, it } from "vitest";
import { HeaderList, type HeaderMap } from "../../../edge-proxy/core/http/header-list.js";

/** Runs the same operations on a HeaderList and a Headers and returns both. */
function both(operations: (map: HeaderMap) => void): [HeaderList, Headers] {
  const list = new HeaderList();
  const headers = new Headers();
  operations(list);
  operations(headers);
  return [list, headers];
}

function expectSameGets(list: HeaderList, headers: Headers, names: string[]): void {
  for (const name of names) {
    expect(list.get(name), name).toBe(headers.get(name));
    expect(list.has(name), name).toBe(headers.has(name));
  }
}

describe("HeaderList", () => {
  it("answers get and has like Headers after append, set and delete", () => {
    const [list, headers] = both((map) => {
      map.append("accept", "text/html");
      map.append("X-Trace", "a");
      map.append("accept", "application/json");
      map.append("x-trace", "b");
      map.set("content-type", "text/plain");
      map.set("Content-Type", "application/json");
      map.append("cache-control", "no-cache");
      map.delete("Cache-Control");
      map.append("vary", "accept");
      map.set("vary", "origin");
    });
    expectSameGets(list, headers, ["accept", "Accept", "x-trace", "content-type", "cache-control", "vary", "missing"]);
    expect(list.get("accept")).toBe("text/html, application/json");
    expect(list.get("missing")).toBeNull();
  });

  it("set keeps the place of the first field and drops the others; appends when absent", () => {
    const list = new HeaderList(["a", "1", "b", "2", "a", "3", "c", "4", "a", "5"]);
    list.set("a", "x");
    expect(list.entries()).toEqual(["a", "x", "b", "2", "c", "4"]);
    list.set("d", "y");
    expect(list.entries()).toEqual(["a", "x", "b", "2", "c", "4", "d", "y"]);
    expect(list.size).toBe(4);
  });

  it("delete removes every field of the name and keeps the order of the rest", () => {
    const list = new HeaderList(["a", "1", "b", "2", "a", "3", "c", "4"]);
    list.delete("A");
    expect(list.entries()).toEqual(["b", "2", "c", "4"]);
    list.delete("missing");
    expect(list.size).toBe(2);
  });

  it("forEach visits each field separately in arrival order (unlike Headers)", () => {
    const list = new HeaderList();
    list.append("Set-Cookie", "a=1");
    list.append("x-b", "2");
    list.append("set-cookie", "b=2");
    const seen: [string, string][] = [];
    list.forEach((value, name) => seen.push([name, value]));
    expect(seen).toEqual([
      ["set-cookie", "a=1"],
      ["x-b", "2"],
      ["set-cookie", "b=2"],
    ]);
    expect(list.getAll("set-cookie")).toEqual(["a=1", "b=2"]);
    expect(list.getAll("Set-Cookie")).toEqual(["a=1", "b=2"]);
    expect(list.getAll("missing")).toEqual([]);
  });

  it("takes ownership of the array it is given and stores values as given", () => {
    const entries = ["host", "example.com", "x-pad", "  spaced  "];
    const list = new HeaderList(entries);
    expect(list.entries()).toBe(entries);
    expect(list.get("x-pad")).toBe("  spaced  ");
    list.append("x-new", "1");
    expect(entries).toHaveLength(6);
  });

  it("copies from Headers and from another HeaderList", () => {
    const headers = new Headers([
      ["Accept", "a"],
      ["accept", "b"],
      ["X-One", "1"],
    ]);
    const fromHeaders = HeaderList.from(headers);
    expect(fromHeaders.get("accept")).toBe(headers.get("accept"));
    expect(fromHeaders.get("x-one")).toBe("1");

    const original = new HeaderList(["a", "1", "a", "2"]);
    const copy = HeaderList.from(original);
    copy.append("b", "3");
    expect(copy.entries()).toEqual(["a", "1", "a", "2", "b", "3"]);
    expect(original.entries()).toEqual(["a", "1", "a", "2"]);
  });
});
