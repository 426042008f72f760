/**
 * @module cli/commands/token-create
 * `weft token create` in its two forms, chosen by the flags:
 * - `--name NAME --role viewer|admin`: a new API token for the control plane's API;
 * - `--namespace NS --service-account SA [--ttl 1h]`: a join token, the short-lived credential a
 *   workload outside Kubernetes trades for certificates (`POST /v1/certificates`).
 * Either way the token is shown once, as the last line of stdout, so `$(weft token create ... | tail -n 1)`
 * captures it.
 */
import type { Command, CommandContext } from "../command.js";
import { NAMESPACE_OPTION } from "../common-options.js";
import { UsageError } from "../errors.js";
import { timestamp } from "../ca-output.js";

interface CreatedToken {
  name: string;
  role: string;
  token: string;
}

interface CreatedJoinToken {
  token: string;
  identity: string;
  expiresAt: string;
}

const TOPIC = "token create";
const API_FORM = "weft token create --name NAME --role viewer|admin (an API token)";
const JOIN_FORM = "weft token create --namespace NS --service-account SA [--ttl 1h] (a workload join token)";

export const tokenCreateCommand: Command = {
  path: ["token", "create"],
  synopsis: "--name NAME --role viewer|admin | --namespace NS --service-account SA [--ttl 1h]",
  summary: "Create an API token, or a join token for a workload (shown once)",
  options: { name: { type: "string" }, role: { type: "string" }, ...NAMESPACE_OPTION, "service-account": { type: "string" }, ttl: { type: "string" } },
  flagHelp: [
    "    --name NAME             API token: a name to list and revoke the token by",
    "    --role ROLE             API token: viewer (read) or admin (everything)",
    "-n, --namespace NS          join token: the workload's namespace",
    "    --service-account SA    join token: the workload's service account",
    "    --ttl DURATION          join token: how long it may be used, e.g. 10m or 24h (default 1h)",
  ],
  notes: [
    "A join token lets a workload outside Kubernetes (a VM, a laptop) get its first certificate, for",
    "spiffe://<trust-domain>/ns/NS/sa/SA, from POST /v1/certificates (Authorization: Bearer <join token>).",
  ],
  run: createToken,
};

async function createToken(ctx: CommandContext): Promise<number> {
  if (ctx.args.length > 1) throw new UsageError(`unexpected argument "${ctx.args[1]}"`, TOPIC);
  const api = ctx.flags.string("name") !== undefined || ctx.flags.string("role") !== undefined || ctx.args[0] !== undefined;
  const join = ["namespace", "service-account", "ttl"].some((flag) => ctx.flags.string(flag) !== undefined);
  if (api && join) {
    throw new UsageError(`--name/--role and --namespace/--service-account/--ttl belong to different forms; use one: ${API_FORM}, or ${JOIN_FORM}`, TOPIC);
  }
  if (!api && !join) throw new UsageError(`say which token to create: ${API_FORM}, or ${JOIN_FORM}`, TOPIC);
  return api ? createApiToken(ctx) : createJoinToken(ctx);
}

async function createApiToken(ctx: CommandContext): Promise<number> {
  const name = ctx.flags.string("name") ?? ctx.args[0];
  const role = ctx.flags.string("role");
  if (name === undefined || name === "") throw new UsageError("a token name is required: --name NAME", TOPIC);
  if (role === undefined || role === "") throw new UsageError("a role is required: --role viewer|admin", TOPIC);
  const created = (await ctx.client().request("POST", "/v1/tokens", {
    body: JSON.stringify({ name, role }),
    contentType: "application/json",
  })) as CreatedToken;
  ctx.out(`token "${created.name}" created with role ${created.role}; it is shown only this once:`);
  ctx.out(created.token);
  return 0;
}

async function createJoinToken(ctx: CommandContext): Promise<number> {
  const namespace = ctx.flags.string("namespace");
  const serviceAccount = ctx.flags.string("service-account");
  const ttl = ctx.flags.string("ttl") ?? "1h";
  if (namespace === undefined || namespace === "") throw new UsageError("a namespace is required for a join token: --namespace NS", TOPIC);
  if (serviceAccount === undefined || serviceAccount === "") {
    throw new UsageError("a service account is required for a join token: --service-account SA", TOPIC);
  }
  const created = (await ctx.client().request("POST", "/v1/join-tokens", {
    body: JSON.stringify({ namespace, serviceAccount, ttl }),
    contentType: "application/json",
  })) as CreatedJoinToken;
  ctx.out(`join token for ${created.identity}, valid until ${timestamp(created.expiresAt)}; it is shown only this once:`);
  ctx.out(created.token);
  return 0;
}
