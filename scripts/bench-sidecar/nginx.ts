/**
 * @module bench-sidecar/nginx
 * The nginx side of `npm run bench:sidecar`: certificates made with openssl (an ECDSA P-256 root and two
 * leaves with SPIFFE-like URI SANs, as the mesh CA issues; the server leaf also has a DNS SAN, which is
 * what nginx's `proxy_ssl_verify` checks), and nginx configurations for
 *
 * - the application (`return 200` with a 1 KiB body; the same app behind every path the bench measures),
 * - the "outbound" proxy (plain HTTP in, `proxy_pass https://` to the peer with a client certificate,
 *   the peer verified against the root and its name, upstream keep-alive),
 * - the "inbound" proxy (TLS with `ssl_verify_client on`, then the app over loopback with keep-alive).
 *
 * Every nginx runs one worker (a sidecar is one Node thread), no access log, keep-alive without a
 * request limit on every hop (nginx's default closes a connection after 1000 requests).
 */
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runSync, startChild, type Child } from "./processes.js";

export const NGINX = "/usr/sbin/nginx";
export const RESPONSE_BYTES = 1024;
/** The 1 KiB answer every run gets. */
export const BODY = "x".repeat(RESPONSE_BYTES - 1) + "\n";

export interface Certificates {
  ca: string;
  clientCert: string;
  clientKey: string;
  serverCert: string;
  serverKey: string;
  serverName: string;
}

/** A root and two leaves (client `sa/<client>`, server `sa/<server>` + DNS `serverName`) under `dir`. */
export function makeCertificates(dir: string, namespace: string, client: string, server: string, serverName: string): Certificates {
  mkdirSync(dir, { recursive: true });
  const path = (name: string) => join(dir, name);
  const key = (name: string) => runSync("openssl", ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", path(name)]);
  key("ca.key");
  runSync("openssl", [
    "req", "-x509", "-new", "-key", path("ca.key"), "-subj", "/O=weft-bench/CN=bench root", "-days", "2", "-out", path("ca.pem"),
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  const leaf = (name: string, sans: string) => {
    key(`${name}.key`);
    runSync("openssl", ["req", "-new", "-key", path(`${name}.key`), "-subj", "/O=weft-bench", "-out", path(`${name}.csr`)]);
    writeFileSync(path(`${name}.ext`), `[leaf]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=${sans}\n`);
    runSync("openssl", ["x509", "-req", "-in", path(`${name}.csr`), "-CA", path("ca.pem"), "-CAkey", path("ca.key"), "-CAcreateserial", "-days", "2", "-extfile", path(`${name}.ext`), "-extensions", "leaf", "-out", path(`${name}.pem`)]);
  };
  leaf(client, `URI:spiffe://cluster.local/ns/${namespace}/sa/${client}`);
  leaf(server, `URI:spiffe://cluster.local/ns/${namespace}/sa/${server},DNS:${serverName}`);
  return { ca: path("ca.pem"), clientCert: path(`${client}.pem`), clientKey: path(`${client}.key`), serverCert: path(`${server}.pem`), serverKey: path(`${server}.key`), serverName };
}

const KEEPALIVE = "keepalive_timeout 300s;\n    keepalive_requests 1000000;";
const UPSTREAM_KEEPALIVE = "keepalive 256;\n    keepalive_requests 1000000;\n    keepalive_timeout 300s;";

function config(dir: string, name: string, body: string): string {
  const tmp = join(dir, "tmp", name);
  mkdirSync(tmp, { recursive: true });
  chmodSync(tmp, 0o777);
  return `# ${name}: written by scripts/bench-sidecar (npm run bench:sidecar)
daemon off;
master_process on;
worker_processes 1;
user www-data www-data;
pid ${join(dir, `${name}.pid`)};
error_log stderr warn;
events { worker_connections 8192; }
http {
    access_log off;
    server_tokens off;
    client_body_temp_path ${tmp}/body;
    proxy_temp_path ${tmp}/proxy;
    fastcgi_temp_path ${tmp}/fastcgi;
    uwsgi_temp_path ${tmp}/uwsgi;
    scgi_temp_path ${tmp}/scgi;
    ${KEEPALIVE}
${body}
}
`;
}

/** The application: 200 with the 1 KiB body on every path. */
export function appConfig(dir: string, name: string, port: number): string {
  return config(
    dir,
    name,
    `    server {
        listen 0.0.0.0:${port} backlog=4096;
        location / {
            default_type text/plain;
            return 200 "${BODY.slice(0, -1)}\\n";
        }
    }`,
  );
}

/** Plain HTTP on `listenPort`, forwarded over mutual TLS to `peer` (keep-alive). */
export function outboundProxyConfig(dir: string, name: string, listenPort: number, peer: { address: string; port: number }, certs: Certificates): string {
  return config(
    dir,
    name,
    `    upstream peer {
        server ${peer.address}:${peer.port};
        ${UPSTREAM_KEEPALIVE}
    }
    server {
        listen 0.0.0.0:${listenPort} backlog=4096;
        location / {
            proxy_pass https://peer;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_ssl_certificate ${certs.clientCert};
            proxy_ssl_certificate_key ${certs.clientKey};
            proxy_ssl_trusted_certificate ${certs.ca};
            proxy_ssl_verify on;
            proxy_ssl_verify_depth 2;
            proxy_ssl_name ${certs.serverName};
            proxy_ssl_server_name on;
            proxy_ssl_protocols TLSv1.2 TLSv1.3;
        }
    }`,
  );
}

/** Mutual TLS on `listenPort` (a client certificate of the root required), forwarded to the app on loopback. */
export function inboundProxyConfig(dir: string, name: string, listenPort: number, appPort: number, certs: Certificates): string {
  return config(
    dir,
    name,
    `    upstream app {
        server 127.0.0.1:${appPort};
        ${UPSTREAM_KEEPALIVE}
    }
    server {
        listen 0.0.0.0:${listenPort} ssl backlog=4096;
        ssl_certificate ${certs.serverCert};
        ssl_certificate_key ${certs.serverKey};
        ssl_client_certificate ${certs.ca};
        ssl_verify_client on;
        ssl_verify_depth 2;
        ssl_protocols TLSv1.2 TLSv1.3;
        location / {
            proxy_pass http://app;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-Client-Cert "Hash=$ssl_client_fingerprint;Subject=\\"$ssl_client_s_dn\\"";
        }
    }`,
  );
}

/** Writes `text` as `<dir>/<name>.conf`, checks it with `nginx -t` and starts nginx in `netns` (master: the returned child). */
export function startNginx(netns: string, dir: string, name: string, text: string): Child {
  const file = join(dir, `${name}.conf`);
  writeFileSync(file, text);
  runSync(NGINX, ["-t", "-q", "-p", dir, "-c", file, "-e", "stderr"]);
  return startChild(`nginx ${name}`, "ip", ["netns", "exec", netns, NGINX, "-p", dir, "-c", file, "-e", "stderr"]);
}
