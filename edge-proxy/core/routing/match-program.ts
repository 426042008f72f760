/**
 * @module match-program
 * The compiled matches of a listener's virtual hosts laid out flat, in one array per listener: for each
 * match, in order, a run of STRIDE slots holding what most matches need — the `checks` bits, the uri,
 * method and header conditions, and the decision to return — followed by the whole CompiledMatch for the
 * rarer fields. A virtual host owns a contiguous slice of it. With thousands of virtual hosts, routing one
 * request then reads a few adjacent cache lines of one array (and matchers shared by the table's
 * MatcherPool, likely cached) instead of a chain of separately allocated objects per match.
 */
import type { CompiledMatch, NamedCondition, RouteDecision } from "./compile-route.js";
import type { StringMatcher } from "./string-matcher.js";

/** One slot of a program: see the layout constants. */
export type ProgramSlot = number | StringMatcher | readonly NamedCondition[] | RouteDecision | CompiledMatch | undefined;

/** Slots per match. */
export const STRIDE = 6;
/** Offsets within a match's slots. */
export const CHECKS = 0;
export const URI = 1;
export const METHOD = 2;
export const HEADERS = 3;
export const DECISION = 4;
export const MATCH = 5;

/** Appends `matches` to `program`; returns the [start, end) slice they occupy. */
export function appendMatches(program: ProgramSlot[], matches: readonly CompiledMatch[]): { start: number; end: number } {
  const start = program.length;
  for (const match of matches) program.push(match.checks, match.uri, match.method, match.headers, match.decision, match);
  return { start, end: program.length };
}
