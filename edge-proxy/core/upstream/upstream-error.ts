/**
 * @module upstream/upstream-error
 * The one error the upstream state raises: a cluster whose traffic policy or endpoints cannot be run (a
 * Maglev table size that is not prime, a non-positive weight, a negative pool limit). It carries a stable
 * `code`, the cluster and the field at fault, so a proxy can NACK the config version with a useful reason.
 */

export type UpstreamConfigErrorCode =
  | "ERR_UPSTREAM_ENDPOINT_INVALID"
  | "ERR_UPSTREAM_LOAD_BALANCER_INVALID"
  | "ERR_UPSTREAM_CONNECTION_POOL_INVALID"
  | "ERR_UPSTREAM_OUTLIER_DETECTION_INVALID"
  | "ERR_UPSTREAM_CLUSTER_DUPLICATE";

/** A cluster's config cannot be run; `field` is a path inside the Cluster, e.g. `policy.loadBalancer.tableSize`. */
export class UpstreamConfigError extends Error {
  override readonly name = "UpstreamConfigError";
  readonly code: UpstreamConfigErrorCode;
  /** The cluster's name. */
  readonly cluster: string;
  readonly field: string;
  constructor(code: UpstreamConfigErrorCode, cluster: string, field: string, message: string) {
    super(`${cluster} ${field}: ${message}`);
    this.code = code;
    this.cluster = cluster;
    this.field = field;
  }
}
