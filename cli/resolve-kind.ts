/**
 * @module cli/resolve-kind
 * Turns the KIND a person types (`vs`, `virtualservices`, `VirtualService`,
 * `virtualservice.networking.istio.io`) into the kind Weft serves, or the error kubectl gives.
 */
import { kindByAlias, type KindInfo } from "../control/resources/kinds.js";
import { UnknownResourceType } from "./errors.js";

export function resolveKind(alias: string): KindInfo {
  const info = kindByAlias(alias);
  if (!info) throw new UnknownResourceType(alias);
  return info;
}
