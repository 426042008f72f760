/**
 * @module http/routes/watch
 * `?watch=true` on a list path: newline-delimited JSON events (ADDED, MODIFIED, DELETED, BOOKMARK)
 * read from the change log after a resourceVersion, so a client that reconnects with the last
 * revision it saw misses nothing. Without a resourceVersion the stream starts with the current objects.
 */
import type { Context } from "hono";
import { BadRequest, RevisionGone } from "../../errors.js";
import type { KindInfo } from "../../resources/kinds.js";
import type { LabelSelector } from "../../resources/label-selector.js";
import { toApiObject } from "../../resources/api-object.js";
import { changesSince, currentRevision, listResources, oldestChange } from "../../store/resource-store.js";
import type { ControlPlaneEnv } from "../context.js";

const DEFAULT_TIMEOUT_S = 300;
const MAX_TIMEOUT_S = 1800;
const PAGE = 500;

export async function watchResponse(
  c: Context<ControlPlaneEnv>,
  kind: KindInfo,
  version: string,
  namespace: string | undefined,
  selector: LabelSelector,
): Promise<Response> {
  const { db, watch, waitUntil } = c.env.deps;
  const rvParam = c.req.query("resourceVersion");
  if (rvParam !== undefined && rvParam !== "" && !/^\d+$/.test(rvParam)) {
    throw new BadRequest(`resourceVersion must be a revision number as the server returned it, got "${rvParam}"`);
  }
  const timeoutParam = c.req.query("timeoutSeconds");
  if (timeoutParam !== undefined && !/^\d+$/.test(timeoutParam)) throw new BadRequest(`timeoutSeconds must be a whole number of seconds, got "${timeoutParam}"`);
  const timeoutMs = Math.min(timeoutParam ? Number(timeoutParam) : DEFAULT_TIMEOUT_S, MAX_TIMEOUT_S) * 1000;

  const filter = { group: kind.group, kind: kind.kind, ...(namespace ? { namespace } : {}) };
  const initial: string[] = [];
  let after: number;
  if (rvParam === undefined || rvParam === "" || rvParam === "0") {
    const { revision, items } = await listResources(db, filter);
    for (const r of items) if (selector(r.labels)) initial.push(line("ADDED", toApiObject(r, version)));
    after = revision;
  } else {
    after = Number(rvParam);
    const oldest = await oldestChange(db);
    if (oldest !== undefined && after < oldest - 1) {
      throw new RevisionGone(`too old resource version: ${after} (the change log starts at ${oldest}); list again and watch from the list's resourceVersion`);
    }
  }

  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const writer = writable.getWriter();
  const encoder = new TextEncoder();
  const send = (text: string) => writer.write(encoder.encode(text));
  const signal = c.req.raw.signal;

  const pump = async () => {
    const deadline = Date.now() + timeoutMs;
    let lastSent = Date.now();
    try {
      for (const l of initial) await send(l);
      while (Date.now() < deadline && !signal?.aborted) {
        const latest = await currentRevision(db);
        const changes = await changesSince(db, { ...filter, after, limit: PAGE });
        for (const change of changes) {
          if (selector(change.resource.labels)) await send(line(change.type, toApiObject(change.resource, version)));
          after = change.revision;
        }
        if (changes.length === PAGE) continue;
        if (changes.length > 0) lastSent = Date.now();
        else {
          if (latest > after) after = latest; // nothing of this kind happened up to `latest`
          if (Date.now() - lastSent >= watch.bookmarkIntervalMs) {
            await send(line("BOOKMARK", { apiVersion: `${kind.group}/${version}`, kind: kind.kind, metadata: { resourceVersion: String(after) } }));
            lastSent = Date.now();
          }
        }
        await new Promise((resolve) => setTimeout(resolve, Math.min(watch.pollIntervalMs, Math.max(0, deadline - Date.now()))));
      }
      await writer.close();
    } catch {
      // The client went away: nothing to do but stop.
      await writer.abort().catch(() => undefined);
    }
  };
  waitUntil(pump());
  return new Response(readable, {
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", "x-content-type-options": "nosniff" },
  });
}

function line(type: string, object: unknown): string {
  return JSON.stringify({ type, object }) + "\n";
}
