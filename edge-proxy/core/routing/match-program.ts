/**
 * @module match-program
 * The compiled matches of a table's virtual hosts laid out flat, in one array: per virtual host, a slot
 * holding its CompiledVirtualHost, then for each match, in order, a run of STRIDE slots holding what most
 * matches need — the `checks` bits, the uri, method and header conditions, and the decision to return —
 * and the whole CompiledMatch for the rarer fields, then an END slot. The host indexes map a domain to
 * the position of its first match. With thousands of virtual hosts, routing one request then reads a few
 * adjacent cache lines of one array (and matchers shared by the table's MatcherPool, likely cached)
 * instead of a chain of separately allocated objects.
 */
import type { CompiledMatch, NamedCondition, RouteDecision } from "./compile-route.js";
import type { CompiledVirtualHost } from "./route-table.js";
import type { StringMatcher } from "./string-matcher.js";

/** One slot of a program: see the layout constants. */
export type ProgramSlot = number | StringMatcher | readonly NamedCondition[] | RouteDecision | CompiledMatch | CompiledVirtualHost | undefined;

/** Slots per match. */
export const STRIDE = 6;
/** Offsets within a match's slots. */
export const CHECKS = 0;
export const URI = 1;
export const METHOD = 2;
export const HEADERS = 3;
export const DECISION = 4;
export const MATCH = 5;
/** In a CHECKS position: the virtual host has no more matches. */
export const END = -1;

/** Appends a virtual host (made by `make` from the [start, end) slice its matches occupy) and its matches. */
export function appendHost(program: ProgramSlot[], matches: readonly CompiledMatch[], make: (start: number, end: number) => CompiledVirtualHost): CompiledVirtualHost {
  const start = program.length + 1;
  const host = make(start, start + matches.length * STRIDE);
  program.push(host);
  for (const match of matches) program.push(match.checks, match.uri, match.method, match.headers, match.decision, match);
  program.push(END);
  return host;
}

/** The virtual host whose first match is at `start`. */
export function hostAt(program: readonly ProgramSlot[], start: number): CompiledVirtualHost {
  return program[start - 1] as CompiledVirtualHost;
}
