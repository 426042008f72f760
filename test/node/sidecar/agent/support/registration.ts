// The sidecar registration the agent tests send: a Pod of reviews v1 in namespace shop.
import type { ProxyRegistration } from "../../../../../edge-proxy/hosts/control-plane-client.js";

export const REGISTRATION: ProxyRegistration = {
  kind: "sidecar",
  name: "reviews-v1-0",
  namespace: "shop",
  serviceAccount: "reviews",
  address: "10.244.0.7",
  labels: { app: "reviews" },
  ports: [{ port: 9080, name: "http", protocol: "HTTP" }],
};
