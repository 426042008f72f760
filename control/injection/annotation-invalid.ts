/**
 * @module injection/annotation-invalid
 * The injector's refusal: an annotation it honours holds a value it cannot use. Istio fails the pod's
 * admission in that case (a bad value would otherwise break the pod's traffic capture), and so does
 * Weft. The message names each annotation and the rule it breaks; `causes` carry the same per field.
 */
import { ResourceInvalid } from "../errors.js";

/** One bad annotation and the rule it breaks. */
export interface AnnotationProblem {
  annotation: string;
  message: string;
}

export class AnnotationInvalid extends ResourceInvalid {
  readonly problems: readonly AnnotationProblem[];
  /** `subject` names the pod: `pod "web-1"`, `pod template of deployment/web`. */
  constructor(subject: string, problems: readonly AnnotationProblem[]) {
    super(
      `${subject} cannot be injected: ` + problems.map((p) => `annotation ${p.annotation}: ${p.message}`).join("; "),
      problems.map((p) => ({ field: `metadata.annotations[${p.annotation}]`, message: p.message })),
    );
    this.problems = problems;
  }
}
