// A one-shot HTTP client run inside a pod's network namespace (as the application would call): prints
// one JSON line {status, headers, body} or {error, code}. Usage:
//   node netns-fetch.mjs URL [-H "name: value"]... [-X METHOD] [--timeout MS]
import http from "node:http";

const argv = process.argv.slice(2);
const url = new URL(argv[0]);
const headers = {};
let method = "GET";
let timeout = 5000;
for (let i = 1; i < argv.length; i += 2) {
  const flag = argv[i];
  const value = argv[i + 1] ?? "";
  if (flag === "-H") {
    const at = value.indexOf(":");
    headers[value.slice(0, at).trim().toLowerCase()] = value.slice(at + 1).trim();
  } else if (flag === "-X") method = value;
  else if (flag === "--timeout") timeout = Number(value);
}
const request = http.request({ host: url.hostname, port: url.port || 80, path: url.pathname + url.search, method, headers, agent: false, timeout }, (response) => {
  const chunks = [];
  response.on("data", (c) => chunks.push(c));
  response.on("end", () => {
    process.stdout.write(JSON.stringify({ status: response.statusCode, headers: response.headers, body: Buffer.concat(chunks).toString("utf8") }) + "\n");
  });
  response.on("error", (error) => process.stdout.write(JSON.stringify({ error: error.message, code: error.code ?? null }) + "\n"));
});
request.on("timeout", () => request.destroy(Object.assign(new Error("timeout"), { code: "ETIMEDOUT" })));
request.on("error", (error) => process.stdout.write(JSON.stringify({ error: error.message, code: error.code ?? null }) + "\n"));
request.end();
