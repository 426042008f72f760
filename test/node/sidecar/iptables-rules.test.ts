// Pure rule generation for `weft-iptables`, against the scenarios of istio-corpus/IPTABLES.md (section 4's
// rule order for the default sidecar, and the variations its golden scenarios cover: excluded inbound
// ports, inbound port list, include/exclude CIDRs, outbound port include/exclude, loopback include,
// uid/gid, IPv6), plus bad flags refused with a message naming the flag, the value and the rule.
import { describe, expect, it } from "vitest";
import { weftIptablesMain } from "../../../cli/commands/iptables.js";
import { CaptureError } from "../../../edge-proxy/hosts/sidecar/iptables/capture-error.js";
import { parseCaptureFlags, type CaptureFlagValues } from "../../../edge-proxy/hosts/sidecar/iptables/capture-options.js";
import { captureRules } from "../../../edge-proxy/hosts/sidecar/iptables/capture-rules.js";
import { parseCidr } from "../../../edge-proxy/hosts/sidecar/iptables/cidr.js";
import { runCli } from "../cli/run-cli.js";

const rules = (flags: CaptureFlagValues = {}, ipv6 = false) => captureRules(parseCaptureFlags(flags, ipv6));
/** The `-A` lines of one chain, in order, without the `-A CHAIN` prefix. */
const chain = (text: string, name: string): string[] =>
  text
    .split("\n")
    .filter((line) => line.startsWith(`-A ${name} `))
    .map((line) => line.slice(`-A ${name} `.length));

const HEADER = ["*nat", ":ISTIO_INBOUND - [0:0]", ":ISTIO_REDIRECT - [0:0]", ":ISTIO_IN_REDIRECT - [0:0]", ":ISTIO_OUTPUT - [0:0]"];

/** IPTABLES.md section 4, steps 1-17, for the injector's default arguments. */
const DEFAULT_V4 = [
  ...HEADER,
  "-A ISTIO_INBOUND -p tcp --dport 15008 -j RETURN",
  "-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports 15001",
  "-A ISTIO_IN_REDIRECT -p tcp -j REDIRECT --to-ports 15006",
  "-A PREROUTING -p tcp -j ISTIO_INBOUND",
  "-A ISTIO_INBOUND -p tcp --dport 15090 -j RETURN",
  "-A ISTIO_INBOUND -p tcp --dport 15021 -j RETURN",
  "-A ISTIO_INBOUND -p tcp --dport 15020 -j RETURN",
  "-A ISTIO_INBOUND -p tcp -j ISTIO_IN_REDIRECT",
  "-A OUTPUT -j ISTIO_OUTPUT",
  "-A ISTIO_OUTPUT -o lo -s 127.0.0.6/32 -j RETURN",
  "-A ISTIO_OUTPUT -o lo ! -d 127.0.0.1/32 -p tcp ! --dport 15008 -m owner --uid-owner 1337 -j ISTIO_IN_REDIRECT",
  "-A ISTIO_OUTPUT -o lo -m owner ! --uid-owner 1337 -j RETURN",
  "-A ISTIO_OUTPUT -m owner --uid-owner 1337 -j RETURN",
  "-A ISTIO_OUTPUT -o lo ! -d 127.0.0.1/32 -p tcp ! --dport 15008 -m owner --gid-owner 1337 -j ISTIO_IN_REDIRECT",
  "-A ISTIO_OUTPUT -o lo -m owner ! --gid-owner 1337 -j RETURN",
  "-A ISTIO_OUTPUT -m owner --gid-owner 1337 -j RETURN",
  "-A ISTIO_OUTPUT -d 127.0.0.1/32 -j RETURN",
  "-A ISTIO_OUTPUT -j ISTIO_REDIRECT",
  "COMMIT",
  "",
].join("\n");

/** The injector's arguments (control/injection/init-container.ts) for a pod with no annotations. */
const INJECTOR_DEFAULTS: CaptureFlagValues = { p: "15001", z: "15006", u: "1337", m: "REDIRECT", i: "*", x: "", b: "*", d: "15090,15021,15020" };

describe("captureRules: the default sidecar", () => {
  it("is Istio's REDIRECT rule set, in istio-iptables' order, with no flags", () => {
    const out = rules();
    expect(out.v4).toBe(DEFAULT_V4);
    expect(out.v6).toBeUndefined();
  });

  it("is the same with the injector's explicit default arguments", () => {
    expect(rules(INJECTOR_DEFAULTS).v4).toBe(DEFAULT_V4);
  });

  it("uses -p, -z and -e for the redirect targets and the tunnel exemption", () => {
    const out = rules({ p: "16001", z: "16006", e: "16008" }).v4;
    expect(chain(out, "ISTIO_REDIRECT")).toEqual(["-p tcp -j REDIRECT --to-ports 16001"]);
    expect(chain(out, "ISTIO_IN_REDIRECT")).toEqual(["-p tcp -j REDIRECT --to-ports 16006"]);
    expect(chain(out, "ISTIO_INBOUND")[0]).toBe("-p tcp --dport 16008 -j RETURN");
    expect(chain(out, "ISTIO_OUTPUT")[1]).toBe("-o lo ! -d 127.0.0.1/32 -p tcp ! --dport 16008 -m owner --uid-owner 1337 -j ISTIO_IN_REDIRECT");
  });
});

describe("captureRules: inbound", () => {
  it("returns for every excluded inbound port, in list order, before the catch-all redirect", () => {
    const out = rules({ d: "15090,15021,15020,8081,9000" }).v4;
    expect(chain(out, "ISTIO_INBOUND")).toEqual([
      "-p tcp --dport 15008 -j RETURN",
      "-p tcp --dport 15090 -j RETURN",
      "-p tcp --dport 15021 -j RETURN",
      "-p tcp --dport 15020 -j RETURN",
      "-p tcp --dport 8081 -j RETURN",
      "-p tcp --dport 9000 -j RETURN",
      "-p tcp -j ISTIO_IN_REDIRECT",
    ]);
  });

  it("with -d \"\" captures every inbound port but the tunnel port", () => {
    expect(chain(rules({ d: "" }).v4, "ISTIO_INBOUND")).toEqual(["-p tcp --dport 15008 -j RETURN", "-p tcp -j ISTIO_IN_REDIRECT"]);
  });

  it("with a -b port list redirects only those ports, and ignores -d", () => {
    const out = rules({ b: "80, 443", d: "15090" }).v4;
    expect(chain(out, "ISTIO_INBOUND")).toEqual([
      "-p tcp --dport 15008 -j RETURN",
      "-p tcp --dport 80 -j ISTIO_IN_REDIRECT",
      "-p tcp --dport 443 -j ISTIO_IN_REDIRECT",
    ]);
    expect(chain(out, "PREROUTING")).toEqual(["-p tcp -j ISTIO_INBOUND"]);
  });

  it("with -b \"\" captures nothing inbound: no PREROUTING jump (the chains still exist)", () => {
    const out = rules({ b: "" }).v4;
    expect(chain(out, "PREROUTING")).toEqual([]);
    expect(chain(out, "ISTIO_INBOUND")).toEqual(["-p tcp --dport 15008 -j RETURN"]);
    expect(out).toContain(":ISTIO_INBOUND - [0:0]");
    expect(chain(out, "OUTPUT")).toEqual(["-j ISTIO_OUTPUT"]);
  });
});

describe("captureRules: outbound", () => {
  const tail = (out: string): string[] => chain(out, "ISTIO_OUTPUT").slice(7); // after passthrough + uid/gid rules

  it("with -i CIDRs redirects only those destinations (no catch-all), after the localhost return", () => {
    const out = rules({ i: "10.0.0.0/8,172.16.0.0/12" }).v4;
    expect(tail(out)).toEqual(["-d 127.0.0.1/32 -j RETURN", "-d 10.0.0.0/8 -j ISTIO_REDIRECT", "-d 172.16.0.0/12 -j ISTIO_REDIRECT"]);
  });

  it("with -x CIDRs returns for them after localhost and before the catch-all", () => {
    const out = rules({ x: "10.96.0.0/12,192.168.1.5/32" }).v4;
    expect(tail(out)).toEqual(["-d 127.0.0.1/32 -j RETURN", "-d 10.96.0.0/12 -j RETURN", "-d 192.168.1.5/32 -j RETURN", "-j ISTIO_REDIRECT"]);
  });

  it("combines -x and -i: exclusions first, then one jump per included CIDR", () => {
    const out = rules({ i: "10.0.0.0/8", x: "10.1.0.0/16" }).v4;
    expect(tail(out)).toEqual(["-d 127.0.0.1/32 -j RETURN", "-d 10.1.0.0/16 -j RETURN", "-d 10.0.0.0/8 -j ISTIO_REDIRECT"]);
  });

  it("with -i \"\" captures nothing outbound: ISTIO_OUTPUT ends with the localhost return", () => {
    const out = rules({ i: "" }).v4;
    expect(chain(out, "ISTIO_OUTPUT").at(-1)).toBe("-d 127.0.0.1/32 -j RETURN");
    expect(out).not.toContain("-j ISTIO_REDIRECT");
  });

  it("puts -o port exclusions first in ISTIO_OUTPUT, for TCP and UDP", () => {
    const out = chain(rules({ o: "3306,5432" }).v4, "ISTIO_OUTPUT");
    expect(out.slice(0, 5)).toEqual([
      "-p tcp --dport 3306 -j RETURN",
      "-p udp --dport 3306 -j RETURN",
      "-p tcp --dport 5432 -j RETURN",
      "-p udp --dport 5432 -j RETURN",
      "-o lo -s 127.0.0.6/32 -j RETURN",
    ]);
  });

  it("redirects -q ports after the CIDR exclusions and before the include rules", () => {
    const out = rules({ q: "80,8080", x: "10.0.0.0/8", i: "192.168.0.0/16" }).v4;
    expect(tail(out)).toEqual([
      "-d 127.0.0.1/32 -j RETURN",
      "-d 10.0.0.0/8 -j RETURN",
      "-p tcp --dport 80 -j ISTIO_REDIRECT",
      "-p tcp --dport 8080 -j ISTIO_REDIRECT",
      "-d 192.168.0.0/16 -j ISTIO_REDIRECT",
    ]);
  });

  it("drops the 'app to itself over lo' return when -i names a loopback range", () => {
    const out = chain(rules({ i: "127.0.0.1/32,10.0.0.0/8" }).v4, "ISTIO_OUTPUT");
    expect(out.some((rule) => rule.includes("! --uid-owner") || rule.includes("! --gid-owner"))).toBe(false);
    expect(out).toContain("-m owner --uid-owner 1337 -j RETURN");
    expect(out).toContain("-d 127.0.0.1/32 -j ISTIO_REDIRECT");
  });

  it("writes the three owner rules per uid, then per gid (-g defaults to -u)", () => {
    const owners = (out: string) => chain(out, "ISTIO_OUTPUT").filter((r) => r.includes("-owner")).map((r) => /(!\s)?--(uid|gid)-owner \d+/.exec(r)?.[0]);
    expect(owners(rules({ u: "1000" }).v4)).toEqual([
      "--uid-owner 1000", "! --uid-owner 1000", "--uid-owner 1000",
      "--gid-owner 1000", "! --gid-owner 1000", "--gid-owner 1000",
    ]);
    expect(owners(rules({ u: "1337,1338", g: "2000" }).v4)).toEqual([
      "--uid-owner 1337", "! --uid-owner 1337", "--uid-owner 1337",
      "--uid-owner 1338", "! --uid-owner 1338", "--uid-owner 1338",
      "--gid-owner 2000", "! --gid-owner 2000", "--gid-owner 2000",
    ]);
  });
});

describe("captureRules: IPv6", () => {
  it("produces an ip6tables set with ::6/128 and ::1/128 in place of 127.0.0.6 and 127.0.0.1", () => {
    const out = rules({}, true);
    expect(out.v6).toBe(DEFAULT_V4.replaceAll("127.0.0.6/32", "::6/128").replaceAll("127.0.0.1/32", "::1/128"));
    expect(out.v4).toBe(DEFAULT_V4);
  });

  it("splits CIDR lists by family, in canonical form", () => {
    const out = rules({ x: "10.0.0.0/8,FD00:0:0::/8", i: "192.168.0.0/16,2001:DB8:0:0:0:0:0:0/32" }, true);
    expect(out.v4).toContain("-A ISTIO_OUTPUT -d 10.0.0.0/8 -j RETURN");
    expect(out.v4).toContain("-A ISTIO_OUTPUT -d 192.168.0.0/16 -j ISTIO_REDIRECT");
    expect(out.v4).not.toContain("::");
    expect(out.v6).toContain("-A ISTIO_OUTPUT -d fd00::/8 -j RETURN");
    expect(out.v6).toContain("-A ISTIO_OUTPUT -d 2001:db8::/32 -j ISTIO_REDIRECT");
    expect(out.v6).not.toMatch(/\d+\.\d+\.\d+\.\d+\/\d+ -j ISTIO_REDIRECT/);
  });

  it("captures no IPv6 outbound traffic when -i lists only IPv4 ranges", () => {
    expect(rules({ i: "10.0.0.0/8" }, true).v6).not.toContain("-j ISTIO_REDIRECT");
  });
});

describe("parseCidr", () => {
  it("clears host bits and writes IPv6 in RFC 5952 form, as iptables-save does", () => {
    expect(parseCidr("10.1.2.3/8")).toEqual({ family: "v4", text: "10.0.0.0/8", loopback: false });
    expect(parseCidr("127.0.0.1/32")).toEqual({ family: "v4", text: "127.0.0.1/32", loopback: true });
    expect(parseCidr("2001:0DB8:0000:0000:0001:0000:0000:0001/128")).toMatchObject({ text: "2001:db8::1:0:0:1/128" });
    expect(parseCidr("::1/128")).toEqual({ family: "v6", text: "::1/128", loopback: true });
    expect(parseCidr("::ffff:10.0.0.1/128")).toMatchObject({ text: "::ffff:a00:1/128" });
    expect(parseCidr("0.0.0.0/0")).toMatchObject({ text: "0.0.0.0/0" });
  });

  it("says why a text is not a CIDR", () => {
    expect(parseCidr("10.0.0.0")).toMatch(/missing \/prefix-length/);
    expect(parseCidr("10.0.0.0/33")).toMatch(/prefix length must be 0-32/);
    expect(parseCidr("fd00::/129")).toMatch(/prefix length must be 0-128/);
    expect(parseCidr("10.0.0.256/8")).toMatch(/not an IPv4 address/);
    expect(parseCidr("1::2::3/64")).toMatch(/not an IPv6 address/);
    expect(parseCidr("1:2:3:4:5:6:7:8:9/64")).toMatch(/not an IPv6 address/);
  });
});

describe("parseCaptureFlags: bad values name the flag and the rule", () => {
  const cases: [CaptureFlagValues, string][] = [
    [{ x: "10.0.0.0/33" }, "-x 10.0.0.0/33: not a CIDR (prefix length must be 0-32)"],
    [{ x: "10.0.0.0" }, "-x 10.0.0.0: not a CIDR (missing /prefix-length, e.g. 10.0.0.0/8)"],
    [{ x: "*" }, "-x *: * is not allowed here: give a comma-separated list of CIDRs"],
    [{ i: "*,10.0.0.0/8" }, "-i *,10.0.0.0/8: * must be given alone, not in a list"],
    [{ i: "10.0.0.0/8,nope/8" }, '-i nope/8: not a CIDR ("nope" is not an IPv4 address)'],
    [{ i: "fd00::/200" }, "-i fd00::/200: not a CIDR (prefix length must be 0-128)"],
    [{ p: "0" }, "-p 0: not a port (a whole number from 1 to 65535)"],
    [{ z: "65536" }, "-z 65536: not a port (a whole number from 1 to 65535)"],
    [{ e: "http" }, "-e http: not a port (a whole number from 1 to 65535)"],
    [{ d: "15090,abc" }, '-d 15090,abc: "abc" is not a port (a whole number from 1 to 65535)'],
    [{ b: "80,,81" }, "-b 80,,81: an empty item is not a port (a whole number from 1 to 65535)"],
    [{ b: "80,*" }, "-b 80,*: * must be given alone, not in a list"],
    [{ o: "*" }, "-o *: * is not allowed here: give a comma-separated list of ports"],
    [{ q: "80-90" }, '-q 80-90: "80-90" is not a port (a whole number from 1 to 65535)'],
    [{ u: "istio-proxy" }, '-u istio-proxy: "istio-proxy" is not a numeric uid (a whole number from 0 to 4294967294)'],
    [{ u: "" }, '-u "": needs a numeric uid'],
    [{ g: "-1" }, '-g -1: "-1" is not a numeric gid (a whole number from 0 to 4294967294)'],
    [{ m: "TPROXY" }, "-m TPROXY: TPROXY interception is not supported; use REDIRECT"],
    [{ m: "NONE" }, "-m NONE: the interception mode must be REDIRECT"],
  ];
  it.each(cases)("%o", (flags, message) => {
    let caught: unknown;
    try {
      parseCaptureFlags(flags, false);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(CaptureError);
    expect((caught as CaptureError).code).toBe("ERR_CAPTURE_FLAG");
    expect((caught as CaptureError).message).toBe(message);
  });
});

describe("weft iptables / weft-iptables --dry-run (in-process, touches nothing)", () => {
  it("prints the IPv4 and IPv6 rules in iptables-restore format", async () => {
    const run = await runCli(["iptables", "--dry-run", "--ipv6", "-p", "15001", "-z", "15006", "-u", "1337", "-m", "REDIRECT", "-i", "*", "-x", "", "-b", "*", "-d", "15090,15021,15020"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      `# IPv4: iptables-restore --noflush\n${DEFAULT_V4}# IPv6: ip6tables-restore --noflush\n${rules({}, true).v6}`,
    );
  });

  it("prints only IPv4 with --no-ipv6", async () => {
    const run = await runCli(["iptables", "--dry-run", "--no-ipv6"]);
    expect(run.stdout).toBe(`# IPv4: iptables-restore --noflush\n${DEFAULT_V4}`);
  });

  it("refuses a bad flag value with exit code 2, naming the flag and the rule", async () => {
    const run = await runCli(["iptables", "--dry-run", "-x", "10.0.0.0/33"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("error: -x 10.0.0.0/33: not a CIDR (prefix length must be 0-32)");
    expect(run.stdout).toBe("");
  });

  it("weft-iptables accepts the same flags and refuses unknown ones", async () => {
    const io = () => {
      const sink = { stdout: "", stderr: "" };
      return {
        sink,
        io: {
          stdout: { write: (s: string) => (sink.stdout += s) },
          stderr: { write: (s: string) => (sink.stderr += s) },
          readStdin: async () => "",
          env: {},
          cwd: "/",
          now: () => new Date(),
        },
      };
    };
    const ok = io();
    expect(await weftIptablesMain(["--dry-run", "--no-ipv6", "-b", "80"], ok.io)).toBe(0);
    expect(ok.sink.stdout).toContain("-A ISTIO_INBOUND -p tcp --dport 80 -j ISTIO_IN_REDIRECT\n");

    const bad = io();
    expect(await weftIptablesMain(["--dry-run", "-k", "eth1"], bad.io)).toBe(2);
    expect(bad.sink.stderr).toBe("error: unknown flag: -k\nSee 'weft-iptables --help' for usage.\n");

    const both = io();
    expect(await weftIptablesMain(["--dry-run", "--cleanup"], both.io)).toBe(2);
    expect(both.sink.stderr).toContain("--dry-run and --cleanup cannot be combined");

    const help = io();
    expect(await weftIptablesMain(["--help"], help.io)).toBe(0);
    expect(help.sink.stdout).toContain("-x, --istio-service-exclude-cidr CIDRS");
  });
});
