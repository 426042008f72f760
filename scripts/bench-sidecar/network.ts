/**
 * @module bench-sidecar/network
 * Namespaces of the bench's own on MeshLab's bridge (the nginx pair and the direct path), made the way
 * MeshLab makes a pod's (a veth pair, one end on `br0` in the node namespace) but without capture rules
 * or sidecars, at addresses MeshLab's pods never get (`<subnet>.0.200` and up). `removeAll` deletes them
 * after killing whatever still runs inside (only processes the bench started run there).
 */
import { runSync } from "./processes.js";

export interface Namespace {
  name: string;
  ip: string;
}

const made: string[] = [];

/** The namespaces made and not yet removed. */
export const namespaces = (): readonly string[] => made;

/** A namespace `name` on the bridge in `nodeNetns`, addressed `ip/24`, loopback up. */
export function addNamespace(nodeNetns: string, name: string, ip: string, hostSide: string): Namespace {
  runSync("ip", ["netns", "del", name], { allowFailure: true });
  runSync("ip", ["netns", "add", name]);
  made.push(name);
  const inNs = (...args: string[]) => runSync("ip", ["netns", "exec", name, ...args]);
  const inNode = (...args: string[]) => runSync("ip", ["netns", "exec", nodeNetns, ...args]);
  inNs("ip", "link", "set", "lo", "up");
  inNode("ip", "link", "add", hostSide, "type", "veth", "peer", "name", "eth0", "netns", name);
  inNode("ip", "link", "set", hostSide, "master", "br0");
  inNode("ip", "link", "set", hostSide, "up");
  inNs("ip", "addr", "add", `${ip}/24`, "dev", "eth0");
  inNs("ip", "link", "set", "eth0", "up");
  return { name, ip };
}

/** Pids of the processes running in `netns`. */
export function pidsIn(netns: string): number[] {
  const out = runSync("ip", ["netns", "pids", netns], { allowFailure: true }).stdout;
  return out.split(/\s+/).filter(Boolean).map(Number);
}

/** Kills what runs in the bench's namespaces (processes it started) and deletes them. */
export function removeAll(): void {
  for (const name of made.splice(0).reverse()) {
    for (const pid of pidsIn(name)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        /* gone */
      }
    }
    runSync("ip", ["netns", "del", name], { allowFailure: true });
  }
}

