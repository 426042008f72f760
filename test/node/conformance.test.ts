// The proxy core's conformance suite in Node: upstreams are loopback HTTP servers running the shared
// upstream app, attempts go out through the Node host's node:http sender.
import { conformanceSuite } from "../conformance/suite.js";
import { nodeConformanceHarness } from "./support/node-conformance-harness.js";

conformanceSuite(nodeConformanceHarness());
