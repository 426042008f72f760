/**
 * @module upstream/hash-policy
 * What a consistent-hash load balancer hashes: the DestinationRule's `consistentHash` key (header, cookie,
 * source IP or query parameter) read from the request. As in Envoy, a request without the key gets a
 * random hash (so a random endpoint), except for a cookie policy with a ttl: then a cookie is generated
 * (random hex), hashed, and returned as a `Set-Cookie` for the response, so the client sticks from its
 * next request on.
 */
import type { LoadBalancer } from "../config/proxy-config.js";
import { murmur3, randomUint32 } from "./hash.js";
import type { HashInput } from "./types.js";

export type HashOn = Extract<LoadBalancer, { hashOn: unknown }>["hashOn"];

/** Reads a request's hash key. Results live in the reader's fields until the next `read` (no allocation). */
export interface HashKeyReader {
  /** The request's key hash (uint32); random when the request has none. Sets `setCookie`. */
  read(input: HashInput): number;
  /** After `read`: the Set-Cookie value for a generated hash cookie, else undefined. */
  setCookie: string | undefined;
}

interface GeneratedCookie {
  hash: number;
  setCookie: string;
}

/** A reader for `hashOn`; `random` makes fallback hashes and generated cookie values. */
export function createHashKeyReader(hashOn: HashOn, random: () => number): HashKeyReader {
  if ("header" in hashOn) {
    const name = hashOn.header.toLowerCase();
    return keyReader((input) => input.header(name), random);
  }
  if ("queryParameter" in hashOn) {
    const name = hashOn.queryParameter;
    return keyReader((input) => input.queryParam(name), random);
  }
  if ("sourceIp" in hashOn) return keyReader((input) => input.sourceIp, random);
  const { name, path, ttlMs } = hashOn.cookie;
  if (ttlMs === undefined) return keyReader((input) => input.cookie(name), random);
  return cookieGeneratingReader(name, path, ttlMs, random);
}

function keyReader(key: (input: HashInput) => string | undefined, random: () => number): HashKeyReader {
  return {
    setCookie: undefined,
    read(input) {
      const value = key(input);
      return value === undefined ? randomUint32(random) : murmur3(value);
    },
  };
}

function cookieGeneratingReader(name: string, path: string | undefined, ttlMs: number, random: () => number): HashKeyReader {
  // A retry of the same request (same HashInput) must hash on the cookie generated for its first attempt,
  // or the endpoint would not match the Set-Cookie the response carries.
  const generated = new WeakMap<HashInput, GeneratedCookie>();
  const reader: HashKeyReader = {
    setCookie: undefined,
    read(input) {
      const value = input.cookie(name);
      if (value !== undefined) {
        reader.setCookie = undefined;
        return murmur3(value);
      }
      let cookie = generated.get(input);
      if (cookie === undefined) {
        const fresh = hex8(randomUint32(random)) + hex8(randomUint32(random));
        cookie = { hash: murmur3(fresh), setCookie: setCookieValue(name, fresh, path, ttlMs) };
        generated.set(input, cookie);
      }
      reader.setCookie = cookie.setCookie;
      return cookie.hash;
    },
  };
  return reader;
}

/**
 * Envoy's generated hash cookie: `name=value; Max-Age=<s>; Path=<p>; HttpOnly`. Max-Age is whole seconds
 * and left out when that is 0 (Istio: a zero ttl makes a session cookie). The value is hex, so unquoted
 * (Envoy quotes it; a quoted value would only hash the same if every cookie parser unquoted it).
 */
export function setCookieValue(name: string, value: string, path: string | undefined, ttlMs: number): string {
  const seconds = Math.floor(ttlMs / 1000);
  let cookie = `${name}=${value}`;
  if (seconds > 0) cookie += `; Max-Age=${seconds}`;
  if (path !== undefined && path !== "") cookie += `; Path=${path}`;
  return cookie + "; HttpOnly";
}

function hex8(n: number): string {
  return n.toString(16).padStart(8, "0");
}
