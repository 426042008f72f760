/**
 * @module http/admission-review
 * What both admission webhooks (validate, inject) share: reading an admission.k8s.io/v1 AdmissionReview
 * from the body, the response envelope, and Kubernetes' 422 `Invalid` status with one cause per field.
 */
import { BadRequest } from "../errors.js";
import { isRecord } from "../validation/raw-value.js";
import { readDocuments } from "./read-body.js";

export interface AdmissionRequest extends Record<string, unknown> {
  uid: string;
}

/** The review's `request`, or BadRequest when the body is not an AdmissionReview with a request and uid. */
export async function readAdmissionRequest(request: Request): Promise<AdmissionRequest> {
  const [review] = await readDocuments(request, "document");
  if (!isRecord(review) || review.kind !== "AdmissionReview" || !isRecord(review.request)) {
    throw new BadRequest("expected an admission.k8s.io/v1 AdmissionReview with a request");
  }
  const admission = review.request;
  if (typeof admission.uid !== "string") throw new BadRequest("AdmissionReview request.uid is required");
  return admission as AdmissionRequest;
}

/** A refusal: Kubernetes' `Invalid` status, its message, one FieldValueInvalid cause per field. */
export function invalidStatus(message: string, causes: readonly { field: string; message: string }[]): Record<string, unknown> {
  return {
    status: "Failure",
    reason: "Invalid",
    code: 422,
    message,
    details: { causes: causes.map((e) => ({ reason: "FieldValueInvalid", field: e.field, message: e.message })) },
  };
}

/** The AdmissionReview answer around `response`. */
export function admissionReview(response: Record<string, unknown>): Record<string, unknown> {
  return { apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", response };
}
