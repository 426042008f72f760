/**
 * @module vs-schema
 * The structural shape of Istio's VirtualService spec (networking.istio.io v1/v1beta1/v1alpha3),
 * field for field, as strict zod objects: unknown fields, wrong types, bad enum values and
 * out-of-range numbers are reported here. Cross-field and semantic rules live in the other
 * `vs-*` modules and run on the raw spec afterwards.
 */
import { z } from "zod";
import { duration, labelMap, percent, port } from "../primitives.js";

/** An integer in [min, max], reported with the value. */
export function intRange(min: number, max: number, what = "value") {
  return z.number().superRefine((n, ctx) => {
    if (!Number.isInteger(n)) ctx.addIssue({ code: "custom", message: `${what} must be an integer, got ${n}` });
    else if (n < min || n > max) ctx.addIssue({ code: "custom", message: `${what} must be between ${min} and ${max}, got ${n}` });
  });
}

const INT32_MAX = 2147483647;
const UINT32_MAX = 4294967295;

const str = z.string().optional();
const strList = z.array(z.string()).optional();
const bool = z.boolean().optional();
const headerMap = z.record(z.string(), z.string()).optional();

/** Istio's StringMatch: `exact`, `prefix` or `regex` (a oneof; checked in vs-http-match). */
export const stringMatchSchema = z.strictObject({ exact: str, prefix: str, regex: str });

const portSelector = z.strictObject({ number: port });

export const destinationSchema = z.strictObject({
  host: z.string(),
  subset: str,
  port: portSelector.optional(),
});

const headerOperations = z.strictObject({ set: headerMap, add: headerMap, remove: strList });
export const headersSchema = z.strictObject({
  request: headerOperations.optional(),
  response: headerOperations.optional(),
});

const weight = intRange(0, INT32_MAX, "weight").optional();

const httpRouteDestination = z.strictObject({
  destination: destinationSchema,
  weight,
  headers: headersSchema.optional(),
});

const routeDestination = z.strictObject({ destination: destinationSchema, weight });

const httpMatchRequest = z.strictObject({
  name: str,
  uri: stringMatchSchema.optional(),
  scheme: stringMatchSchema.optional(),
  method: stringMatchSchema.optional(),
  authority: stringMatchSchema.optional(),
  headers: z.record(z.string(), stringMatchSchema).optional(),
  port: port.optional(),
  sourceLabels: labelMap.optional(),
  gateways: strList,
  queryParams: z.record(z.string(), stringMatchSchema).optional(),
  ignoreUriCase: bool,
  withoutHeaders: z.record(z.string(), stringMatchSchema).optional(),
  sourceNamespace: str,
  statPrefix: str,
});

const redirect = z.strictObject({
  uri: str,
  authority: str,
  port: port.optional(),
  derivePort: z.enum(["FROM_PROTOCOL_DEFAULT", "FROM_REQUEST_PORT"]).optional(),
  scheme: str,
  redirectCode: intRange(0, UINT32_MAX, "redirectCode").optional(),
});

const directResponse = z.strictObject({
  status: intRange(0, UINT32_MAX, "status"),
  body: z.strictObject({ string: str, bytes: str }).optional(),
});

const delegate = z.strictObject({ name: str, namespace: str });

const rewrite = z.strictObject({
  uri: str,
  authority: str,
  uriRegexRewrite: z.strictObject({ match: str, rewrite: str }).optional(),
});

const retries = z.strictObject({
  attempts: intRange(-INT32_MAX - 1, INT32_MAX, "attempts").optional(),
  perTryTimeout: duration().optional(),
  retryOn: str,
  retryRemoteLocalities: bool,
  retryIgnorePreviousHosts: bool,
  backoff: duration().optional(),
});

const fault = z.strictObject({
  delay: z
    .strictObject({
      fixedDelay: duration().optional(),
      exponentialDelay: duration().optional(),
      percentage: percent.optional(),
      percent: intRange(0, 100, "percent").optional(),
    })
    .optional(),
  abort: z
    .strictObject({
      httpStatus: intRange(-INT32_MAX - 1, INT32_MAX, "httpStatus").optional(),
      grpcStatus: str,
      http2Error: str,
      percentage: percent.optional(),
    })
    .optional(),
});

const mirrorPolicy = z.strictObject({ destination: destinationSchema, percentage: percent.optional() });

const corsPolicy = z.strictObject({
  allowOrigins: z.array(stringMatchSchema).optional(),
  allowOrigin: strList,
  allowMethods: strList,
  allowHeaders: strList,
  exposeHeaders: strList,
  maxAge: duration().optional(),
  allowCredentials: bool,
  unmatchedPreflights: z.enum(["UNSPECIFIED", "FORWARD", "IGNORE"]).optional(),
});

const httpRoute = z.strictObject({
  name: str,
  match: z.array(httpMatchRequest).optional(),
  route: z.array(httpRouteDestination).optional(),
  redirect: redirect.optional(),
  directResponse: directResponse.optional(),
  delegate: delegate.optional(),
  rewrite: rewrite.optional(),
  timeout: duration().optional(),
  retries: retries.optional(),
  fault: fault.optional(),
  mirror: destinationSchema.optional(),
  mirrors: z.array(mirrorPolicy).optional(),
  mirrorPercentage: percent.optional(),
  mirrorPercent: intRange(0, UINT32_MAX, "mirrorPercent").optional(),
  mirror_percent: intRange(0, UINT32_MAX, "mirror_percent").optional(),
  corsPolicy: corsPolicy.optional(),
  headers: headersSchema.optional(),
  /** Deprecated and ignored since Istio 1.0 (websockets are upgraded automatically); still accepted. */
  websocketUpgrade: bool,
});

const tlsMatchAttributes = z.strictObject({
  sniHosts: strList,
  destinationSubnets: strList,
  port: port.optional(),
  sourceLabels: labelMap.optional(),
  gateways: strList,
  sourceNamespace: str,
});

const l4MatchAttributes = z.strictObject({
  destinationSubnets: strList,
  port: port.optional(),
  sourceSubnet: str,
  sourceLabels: labelMap.optional(),
  gateways: strList,
  sourceNamespace: str,
});

const tlsRoute = z.strictObject({
  match: z.array(tlsMatchAttributes).optional(),
  route: z.array(routeDestination).optional(),
});

const tcpRoute = z.strictObject({
  match: z.array(l4MatchAttributes).optional(),
  route: z.array(routeDestination).optional(),
});

/** The whole VirtualService spec. */
export const virtualServiceSchema = z.strictObject({
  hosts: strList,
  gateways: strList,
  http: z.array(httpRoute).optional(),
  tls: z.array(tlsRoute).optional(),
  tcp: z.array(tcpRoute).optional(),
  exportTo: strList,
});
