// The sidecar's settings from the environment the injector gives it and from flags: defaults, the
// credential choice, the downward-API labels file, pod ports, and errors naming the variable or flag.
import { describe, expect, it } from "vitest";
import { readSidecarSettings, SidecarSettingsError, type ReadTextFile } from "../../../../edge-proxy/hosts/sidecar/agent/sidecar-settings.js";

/** What docs/injection.md's weft-proxy container gets. */
const POD_ENV = {
  POD_NAME: "reviews-v1-7d4f8-abcde",
  POD_NAMESPACE: "shop",
  INSTANCE_IP: "10.244.0.7",
  SERVICE_ACCOUNT: "reviews",
  HOST_IP: "172.18.0.2",
  WEFT_CONTROL_PLANE_URL: "https://weft.example.com/",
  ISTIO_META_POD_PORTS: JSON.stringify([
    { containerPort: 9080, name: "http-web", protocol: "TCP" },
    { containerPort: 9090, name: "grpc-web-ui", protocol: "TCP" },
    { containerPort: 5432 },
    { containerPort: 53, name: "dns", protocol: "UDP" },
    { containerPort: 53, name: "dns-tcp", protocol: "TCP" },
    { containerPort: 9999, protocol: "SCTP" },
  ]),
  ISTIO_META_WORKLOAD_NAME: "reviews-v1",
  ISTIO_META_APP_CONTAINERS: "reviews",
};

const LABELS_FILE = 'app="reviews"\npod-template-hash="7d4f8"\nsecurity.istio.io/tlsMode="istio"\nversion="v1"\n';

function files(map: Record<string, string>): ReadTextFile {
  return (path) => {
    const text = map[path];
    if (text === undefined) throw Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), { code: "ENOENT" });
    return text;
  };
}

function problemsOf(run: () => unknown): { name: string; message: string }[] {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(SidecarSettingsError);
    return (error as SidecarSettingsError).problems;
  }
  throw new Error("expected the settings to be refused");
}

describe("an injected Pod's settings", () => {
  it("reads identity, labels, ports and defaults as pilot-agent would", () => {
    const settings = readSidecarSettings(POD_ENV, [], files({ "/etc/istio/pod/labels": LABELS_FILE }));
    expect(settings).toMatchObject({
      controlPlaneUrl: "https://weft.example.com",
      credential: { kind: "service-account-token", path: "/var/run/secrets/tokens/istio-token" },
      podName: "reviews-v1-7d4f8-abcde",
      namespace: "shop",
      serviceAccount: "reviews",
      podIp: "10.244.0.7",
      identity: { trustDomain: "cluster.local", namespace: "shop", serviceAccount: "reviews" },
      workloadName: "reviews-v1",
      dataDir: "/var/lib/istio/data",
      certificateTtl: undefined,
      drainDurationMs: 5_000,
      appMetrics: undefined,
      proxyId: "reviews-v1-7d4f8-abcde.shop",
    });
    expect(settings.labels).toEqual({ app: "reviews", "pod-template-hash": "7d4f8", "security.istio.io/tlsMode": "istio", version: "v1" });
    expect(settings.registration).toEqual({
      kind: "sidecar",
      name: "reviews-v1-7d4f8-abcde",
      namespace: "shop",
      serviceAccount: "reviews",
      address: "10.244.0.7",
      labels: settings.labels,
      // Protocols from Istio's port naming; UDP kept, the TCP twin of 53 and SCTP left out.
      ports: [
        { port: 9080, name: "http-web", protocol: "HTTP" },
        { port: 9090, name: "grpc-web-ui", protocol: "GRPC-Web" },
        { port: 5432 },
        { port: 53, name: "dns", protocol: "UDP" },
      ],
    });
  });

  it("takes overrides from env and flags, flags winning", () => {
    const settings = readSidecarSettings(
      {
        ...POD_ENV,
        TRUST_DOMAIN: "mesh.example",
        WEFT_CERT_TTL: "12h",
        TERMINATION_DRAIN_DURATION_SECONDS: "30",
        WEFT_DATA_DIR: "/data/from-env",
        WEFT_LABELS: '{"version":"v2","team":"books"}',
        ISTIO_PROMETHEUS_ANNOTATIONS: '{"scrape":"true","path":"/stats","port":"8080"}',
      },
      ["--control-plane-url", "http://127.0.0.1:8787", "--labels-file=/tmp/labels", "--data-dir", "/data/flag", "--token-file", "/tokens/t"],
      files({ "/tmp/labels": 'app="reviews"\nversion="v1"\n' }),
    );
    expect(settings.controlPlaneUrl).toBe("http://127.0.0.1:8787");
    expect(settings.identity.trustDomain).toBe("mesh.example");
    expect(settings.certificateTtl).toBe("12h");
    expect(settings.drainDurationMs).toBe(30_000);
    expect(settings.dataDir).toBe("/data/flag");
    expect(settings.credential).toEqual({ kind: "service-account-token", path: "/tokens/t" });
    expect(settings.labels).toEqual({ app: "reviews", version: "v2", team: "books" });
    expect(settings.appMetrics).toEqual({ port: 8080, path: "/stats" });
    expect(readSidecarSettings({ ...POD_ENV, ISTIO_PROMETHEUS_ANNOTATIONS: '{"scrape":"false"}' }, [], files({})).appMetrics).toBeUndefined();
    expect(readSidecarSettings({ ...POD_ENV, ISTIO_PROMETHEUS_ANNOTATIONS: '{"scrape":"true"}' }, [], files({})).appMetrics).toEqual({ port: 80, path: "/metrics" });
  });

  it("uses a join token from WEFT_JOIN_TOKEN or --join-token-file instead of the projected token", () => {
    expect(readSidecarSettings({ ...POD_ENV, WEFT_JOIN_TOKEN: "wjt.abc" }, [], files({})).credential).toEqual({ kind: "join-token", token: "wjt.abc" });
    expect(readSidecarSettings(POD_ENV, ["--join-token-file", "/secrets/join"], files({})).credential).toEqual({ kind: "join-token-file", path: "/secrets/join" });
  });

  it("runs without a labels file outside a Pod (labels from WEFT_LABELS only)", () => {
    const settings = readSidecarSettings({ ...POD_ENV, WEFT_LABELS: '{"app":"vm-app"}' }, [], files({}));
    expect(settings.labels).toEqual({ app: "vm-app" });
    expect(readSidecarSettings({ ...POD_ENV, ISTIO_META_POD_PORTS: undefined }, [], files({})).ports).toEqual([]);
  });
});

describe("bad input", () => {
  it("names each missing variable and its rule, all at once", () => {
    const problems = problemsOf(() => readSidecarSettings({}, [], files({})));
    expect(problems.map((p) => p.name)).toEqual(["WEFT_CONTROL_PLANE_URL", "POD_NAME", "POD_NAMESPACE", "SERVICE_ACCOUNT", "INSTANCE_IP"]);
    expect(problems[0]!.message).toContain("--control-plane-url");
    expect(problems[4]!.message).toContain("IPv4 or IPv6");
  });

  it("names the variable and the rule for bad values", () => {
    const problems = problemsOf(() =>
      readSidecarSettings(
        {
          ...POD_ENV,
          WEFT_CONTROL_PLANE_URL: "ftp://weft",
          POD_NAME: "Reviews_1",
          POD_NAMESPACE: "shop.eu",
          INSTANCE_IP: "10.0.0.300",
          TRUST_DOMAIN: "Cluster Local",
          WEFT_CERT_TTL: "30s",
          TERMINATION_DRAIN_DURATION_SECONDS: "5s",
          WEFT_LABELS: '{"app":"has space"}',
          ISTIO_META_POD_PORTS: '[{"containerPort":70000},{"containerPort":80,"name":"Http_Web"}]',
          ISTIO_PROMETHEUS_ANNOTATIONS: '{"port":"http"}',
        },
        [],
        files({}),
      ),
    );
    const byName = Object.fromEntries(problems.map((p) => [p.name, p.message]));
    expect(byName.WEFT_CONTROL_PLANE_URL).toBe('"ftp://weft" is not an http(s) URL');
    expect(byName.POD_NAME).toContain("RFC 1123 subdomain");
    expect(byName.POD_NAMESPACE).toContain("RFC 1123 label");
    expect(byName.INSTANCE_IP).toContain('"10.0.0.300" must be an IPv4 or IPv6 address');
    expect(byName.TRUST_DOMAIN).toContain("SPIFFE trust domain");
    expect(byName.WEFT_CERT_TTL).toContain("shorter than the CA's minimum of 1m");
    expect(byName.TERMINATION_DRAIN_DURATION_SECONDS).toContain("whole number of seconds");
    expect(byName.WEFT_LABELS).toContain('invalid label value "has space"');
    expect(problems.filter((p) => p.name === "ISTIO_META_POD_PORTS").map((p) => p.message)).toEqual([
      "[0].containerPort: must be a whole number from 1 to 65535",
      "[1].name: must be an IANA service name: lowercase alphanumerics and '-', at most 15 characters",
    ]);
    expect(byName.ISTIO_PROMETHEUS_ANNOTATIONS).toContain('port "http"');
  });

  it("names the labels file and line for a bad line, and a labels file named by the flag that is absent", () => {
    const bad = problemsOf(() => readSidecarSettings(POD_ENV, [], files({ "/etc/istio/pod/labels": 'app="reviews"\nversion=v1\n' })));
    expect(bad).toEqual([{ name: "--labels-file", message: '/etc/istio/pod/labels line 2: the value of version must be a double-quoted string, got v1' }]);
    const absent = problemsOf(() => readSidecarSettings(POD_ENV, ["--labels-file", "/nope"], files({})));
    expect(absent).toEqual([{ name: "--labels-file", message: "cannot read /nope: ENOENT" }]);
  });

  it("refuses unknown flags, flags without values, and two credentials", () => {
    expect(problemsOf(() => readSidecarSettings(POD_ENV, ["--contol-plane-url", "x"], files({})))[0]).toMatchObject({ name: "--contol-plane-url", message: expect.stringContaining("unknown flag") });
    expect(problemsOf(() => readSidecarSettings(POD_ENV, ["--token-file"], files({})))).toEqual([{ name: "--token-file", message: "needs a value" }]);
    expect(problemsOf(() => readSidecarSettings({ ...POD_ENV, WEFT_JOIN_TOKEN: "wjt" }, ["--token-file", "/t"], files({})))).toEqual([
      { name: "WEFT_JOIN_TOKEN", message: "conflicts with --token-file: give one credential (a service-account token file, a join token, or a join-token file)" },
    ]);
    const message = (() => {
      try {
        readSidecarSettings({ ...POD_ENV, INSTANCE_IP: "nope" }, [], files({}));
      } catch (error) {
        return (error as Error).message;
      }
      return "";
    })();
    expect(message).toBe('the sidecar\'s settings are invalid:\n  INSTANCE_IP: "nope" must be an IPv4 or IPv6 address');
  });
});
