/**
 * @module char-codes
 * Prefix and suffix tests against text compiled to its UTF-16 code units, for matchers run on every
 * request (route uri prefixes, AuthorizationPolicy `abc*` and `*abc` patterns). V8's startsWith/endsWith
 * compare a character at a time through a generic path (about 40 instructions each on Node 20), and a
 * charCodeAt loop over two strings pays for each string's representation check twice per character; with
 * the pattern's code units in a typed array, the loop reads one string. It compares from the end, where
 * values that share a long start (`cluster.local/ns/a/…`, `/api/v1/…`) first differ.
 */

/** The code units of `text`. */
export function charCodes(text: string): Uint16Array {
  const codes = new Uint16Array(text.length);
  for (let i = 0; i < text.length; i++) codes[i] = text.charCodeAt(i);
  return codes;
}

/** Whether `value` starts with the text of `codes`. */
export function startsWithCodes(value: string, codes: Uint16Array): boolean {
  const n = codes.length;
  if (n > value.length) return false;
  for (let i = n - 1; i >= 0; i--) if (value.charCodeAt(i) !== codes[i]) return false;
  return true;
}

/** Whether `value` ends with the text of `codes`. */
export function endsWithCodes(value: string, codes: Uint16Array): boolean {
  const n = codes.length;
  const offset = value.length - n;
  if (offset < 0) return false;
  for (let i = n - 1; i >= 0; i--) if (value.charCodeAt(offset + i) !== codes[i]) return false;
  return true;
}
