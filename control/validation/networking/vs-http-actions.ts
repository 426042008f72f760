/**
 * @module vs-http-actions
 * Semantic rules for what an HTTP route does besides forwarding: redirect, direct response,
 * rewrite, retries, timeout precision, fault injection and traffic mirroring.
 */
import {
  type Path,
  type Problems,
  asNumber,
  asObject,
  asString,
  durationPrecisionProblem,
  isSet,
  objectEntries,
} from "./vs-common.js";
import { checkDestination } from "./vs-destination.js";
import { re2Problem } from "./vs-re2.js";

/** Codes Envoy can send for a redirect (Istio drops any other 3xx at translation time). */
const REDIRECT_CODES = [301, 302, 303, 307, 308];

/** x-envoy-retry-on and x-envoy-retry-grpc-on policies Envoy understands. */
const RETRY_ON = new Set([
  "5xx", "gateway-error", "reset", "reset-before-request", "connect-failure", "retriable-4xx", "refused-stream",
  "retriable-status-codes", "retriable-headers", "envoy-ratelimited", "http3-post-connect-failure",
  "cancelled", "deadline-exceeded", "internal", "resource-exhausted", "unavailable",
]);

/** HTTP status codes with a registered meaning (the ones Go's http.StatusText knows). */
const KNOWN_STATUS = new Set([
  100, 101, 102, 103, 200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 307, 308,
  400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 418, 421, 422, 423,
  424, 425, 426, 428, 429, 431, 451, 500, 501, 502, 503, 504, 505, 506, 507, 508, 510, 511,
]);

const GRPC_STATUS = new Set([
  "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
  "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED",
  "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
]);

const MAX_DIRECT_RESPONSE_BYTES = 1024 * 1024;

function httpStatusProblem(status: number, what: string): string | undefined {
  if (status < 200 || status > 599) return `${what} ${status} is not in range 200-599`;
  return undefined;
}

export function checkRedirect(problems: Problems, path: Path, value: unknown): void {
  const redirect = asObject(value);
  if (!redirect) return;
  const target = ["uri", "authority", "scheme"].some((k) => (asString(redirect[k]) ?? "") !== "") || isSet(redirect, "port") || isSet(redirect, "derivePort");
  if (!target) problems.add(path, "redirect must set at least one of uri, authority, scheme, port or derivePort");
  if (isSet(redirect, "port") && isSet(redirect, "derivePort")) problems.add([...path, "derivePort"], "only one of port or derivePort may be set");
  const code = asNumber(redirect.redirectCode);
  if (code !== undefined && code !== 0 && !REDIRECT_CODES.includes(code)) {
    problems.add([...path, "redirectCode"], `redirectCode ${code} is not a supported redirect status: use one of ${REDIRECT_CODES.join(", ")}`);
  }
  const scheme = asString(redirect.scheme);
  if (scheme !== undefined && scheme !== "" && scheme !== "http" && scheme !== "https") {
    problems.add([...path, "scheme"], `invalid redirect scheme "${scheme}": must be "http" or "https"`);
  }
}

export function checkDirectResponse(problems: Problems, path: Path, value: unknown): void {
  const direct = asObject(value);
  if (!direct) return;
  const status = asNumber(direct.status);
  if (status !== undefined) problems.addIf([...path, "status"], httpStatusProblem(status, "directResponse status"));
  const body = asObject(direct.body);
  if (!body) return;
  if (isSet(body, "string") && isSet(body, "bytes")) {
    problems.add([...path, "body"], "only one of string or bytes may be set");
    return;
  }
  const text = asString(body.string);
  const bytes = asString(body.bytes);
  let size = text !== undefined ? new TextEncoder().encode(text).length : 0;
  if (bytes !== undefined) {
    if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(bytes.replace(/\s+/g, ""))) {
      problems.add([...path, "body", "bytes"], "bytes must be base64-encoded");
      return;
    }
    size = Math.floor((bytes.replace(/[\s=]/g, "").length * 3) / 4);
  }
  if (size > MAX_DIRECT_RESPONSE_BYTES) {
    problems.add([...path, "body"], `direct response body is ${size} bytes: it must be less than 1MB`);
  }
}

export function checkRewrite(problems: Problems, path: Path, value: unknown): void {
  const rewrite = asObject(value);
  if (!rewrite) return;
  const uri = asString(rewrite.uri) ?? "";
  const regexRewrite = asObject(rewrite.uriRegexRewrite);
  const authority = asString(rewrite.authority) ?? "";
  if (uri !== "" && regexRewrite) {
    problems.add([...path, "uriRegexRewrite"], "rewrite may set only one of uri or uriRegexRewrite");
  }
  if (uri === "" && !regexRewrite && authority === "") {
    problems.add(path, "rewrite must set at least one of uri, uriRegexRewrite or authority");
  }
  if (regexRewrite) {
    const match = asString(regexRewrite.match) ?? "";
    const replacement = asString(regexRewrite.rewrite) ?? "";
    if (match === "") problems.add([...path, "uriRegexRewrite", "match"], "uriRegexRewrite requires both match and rewrite: match is missing");
    else problems.addIf([...path, "uriRegexRewrite", "match"], re2Problem(match));
    if (replacement === "") problems.add([...path, "uriRegexRewrite", "rewrite"], "uriRegexRewrite requires both match and rewrite: rewrite is missing");
  }
}

export function checkRetries(problems: Problems, path: Path, value: unknown): void {
  const retries = asObject(value);
  if (!retries) return;
  const attempts = asNumber(retries.attempts) ?? 0;
  if (attempts < 0) problems.add([...path, "attempts"], `attempts must be >= 0, got ${attempts}`);
  if (attempts === 0) {
    const configured = ["perTryTimeout", "retryOn", "retryRemoteLocalities"].filter((k) =>
      k === "retryOn" ? (asString(retries[k]) ?? "") !== "" : isSet(retries, k),
    );
    if (configured.length > 0) {
      problems.add(path, `retry policy sets ${configured.join(", ")} but attempts is 0, which disables retries: set attempts > 0 or remove them`);
    }
  }
  for (const field of ["perTryTimeout", "backoff"] as const) problems.addIf([...path, field], durationPrecisionProblem(retries[field]));
  const retryOn = asString(retries.retryOn);
  if (retryOn !== undefined && retryOn !== "") {
    for (const policy of retryOn.split(",")) {
      const code = /^\d+$/.test(policy) ? Number(policy) : NaN;
      if (!RETRY_ON.has(policy) && !KNOWN_STATUS.has(code)) {
        problems.add([...path, "retryOn"], `"${policy}" is not a valid retryOn policy: use Envoy retry conditions (e.g. 5xx, connect-failure, reset) or HTTP status codes, comma-separated without spaces`);
      }
    }
  }
}

/** Istio's Percent for faults: 0, or between 0.0001 and 100 (Envoy's resolution). */
function faultPercentageProblem(value: unknown): string | undefined {
  const n = asNumber(asObject(value)?.value);
  if (n !== undefined && n > 0 && n < 0.0001) return `percentage ${n} is too small: must be 0 or in range 0.0001..100`;
  return undefined;
}

export function checkFault(problems: Problems, path: Path, value: unknown): void {
  const fault = asObject(value);
  if (!fault) return;
  const delay = asObject(fault.delay);
  const abort = asObject(fault.abort);
  if (!delay && !abort) problems.add(path, "fault injection must set an abort, a delay, or both");
  if (abort) {
    const abortPath = [...path, "abort"];
    problems.addIf([...abortPath, "percentage"], faultPercentageProblem(abort.percentage));
    const kinds = ["httpStatus", "grpcStatus", "http2Error"].filter((k) => isSet(abort, k));
    if (kinds.length > 1) problems.add(abortPath, `only one of httpStatus, grpcStatus or http2Error may be set, got ${kinds.join(" and ")}`);
    const status = asNumber(abort.httpStatus);
    if (status !== undefined) problems.addIf([...abortPath, "httpStatus"], httpStatusProblem(status, "abort httpStatus"));
    const grpc = asString(abort.grpcStatus);
    if (grpc !== undefined && !GRPC_STATUS.has(grpc)) {
      problems.add([...abortPath, "grpcStatus"], `gRPC status "${grpc}" is not supported: use a canonical code name such as NOT_FOUND or UNAVAILABLE`);
    }
    if (isSet(abort, "http2Error")) problems.add([...abortPath, "http2Error"], "HTTP/2 error abort fault injection is not supported yet: use httpStatus or grpcStatus");
  }
  if (delay) {
    const delayPath = [...path, "delay"];
    problems.addIf([...delayPath, "percentage"], faultPercentageProblem(delay.percentage));
    const fixed = isSet(delay, "fixedDelay");
    const exponential = isSet(delay, "exponentialDelay");
    if (fixed && exponential) problems.add(delayPath, "only one of fixedDelay or exponentialDelay may be set");
    else if (!fixed && !exponential) problems.add(delayPath, "delay must set fixedDelay");
    if (exponential) problems.add([...delayPath, "exponentialDelay"], "exponentialDelay is not supported yet: use fixedDelay");
    problems.addIf([...delayPath, "fixedDelay"], durationPrecisionProblem(delay.fixedDelay));
  }
}

/** mirror, mirrors and the mirror percentages. */
export function checkMirroring(problems: Problems, routePath: Path, route: Record<string, unknown>): void {
  if (isSet(route, "mirror") && Array.isArray(route.mirrors) && route.mirrors.length > 0) {
    problems.add([...routePath, "mirrors"], "only one of mirror or mirrors may be set");
  }
  checkDestination(problems, [...routePath, "mirror"], route.mirror);
  for (const [i, policy] of objectEntries(route.mirrors)) checkDestination(problems, [...routePath, "mirrors", i, "destination"], policy.destination);
  if (isSet(route, "mirrorPercent") && isSet(route, "mirror_percent")) {
    problems.add([...routePath, "mirror_percent"], "mirrorPercent and mirror_percent are the same field: set only one (or use mirrorPercentage)");
  }
  for (const field of ["mirrorPercent", "mirror_percent"] as const) {
    const pct = asNumber(route[field]);
    if (pct !== undefined && Number.isInteger(pct) && pct >= 0 && pct > 100) {
      problems.add([...routePath, field], `${field} must be at most 100, got ${pct}`);
    }
  }
}
