/**
 * @module cli/problem-line
 * One line per validation problem, the same for the offline validator and for a refused apply:
 * `document 2 (virtualservice.networking.istio.io/reviews): spec.http[0].route[1].weight: ...`.
 */

export interface Problem {
  /** Index of the document in its file (offline) or in the request body (server). */
  document?: number;
  /** `virtualservice.networking.istio.io/reviews`. */
  object?: string;
  field?: string;
  message?: string;
}

export function problemLine(problem: Problem): string {
  const parts: string[] = [];
  if (problem.document !== undefined) {
    parts.push(problem.object ? `document ${problem.document} (${problem.object})` : `document ${problem.document}`);
  } else if (problem.object) {
    parts.push(problem.object);
  }
  if (problem.field) parts.push(problem.field);
  parts.push(problem.message ?? "invalid");
  return parts.join(": ");
}
