/**
 * @module http/header-list
 * An HTTP field list kept the way it arrived: one flat array `[name0, value0, name1, value1, ...]` in
 * arrival order, names lower-case, values stored as given (callers trim). It offers the subset of the web
 * Headers API the proxy core uses (`HeaderMap`), so code written against `Headers` works on it, without
 * the per-field objects, validation and sorting `Headers` does; a parser fills it with one array push per
 * field. Runtime-agnostic: no Node APIs.
 *
 * Differences from `Headers`: `forEach` visits every field separately, repeated ones included, in arrival
 * order (Headers sorts names and joins repeats); `getAll` returns each field of a name (for set-cookie).
 */

/** The subset of the web Headers API the proxy core uses; `Headers` satisfies it too. */
export interface HeaderMap {
  get(name: string): string | null;
  has(name: string): boolean;
  set(name: string, value: string): void;
  append(name: string, value: string): void;
  delete(name: string): void;
  forEach(callback: (value: string, name: string) => void): void;
}

/** A field list in arrival order, backed by one flat `[name, value, ...]` array with lower-case names. */
export class HeaderList implements HeaderMap {
  readonly #entries: string[];

  /** Takes ownership of `entries` (not copied): `[name, value, ...]`, names already lower-case. */
  constructor(entries: string[] = []) {
    this.#entries = entries;
  }

  /** A copy of `headers`: each field `forEach` reports, in its order, names lower-cased. */
  static from(headers: HeaderMap | Headers): HeaderList {
    if (headers instanceof HeaderList) return new HeaderList(headers.#entries.slice());
    const entries: string[] = [];
    headers.forEach((value: string, name: string) => {
      entries.push(lowerCaseName(name), value);
    });
    return new HeaderList(entries);
  }

  /** How many fields there are (repeated fields counted separately). */
  get size(): number {
    return this.#entries.length >> 1;
  }

  /** The flat `[name, value, ...]` array itself, read-only. */
  entries(): readonly string[] {
    return this.#entries;
  }

  /** The values of every field called `name`, joined with ", "; null when there is none. */
  get(name: string): string | null {
    const key = lowerCaseName(name);
    const entries = this.#entries;
    let joined: string | null = null;
    for (let i = 0; i < entries.length; i += 2) {
      if (entries[i] !== key) continue;
      const value = entries[i + 1]!;
      joined = joined === null ? value : `${joined}, ${value}`;
    }
    return joined;
  }

  /** The value of each field called `name`, in order (set-cookie cannot be joined). */
  getAll(name: string): string[] {
    const key = lowerCaseName(name);
    const entries = this.#entries;
    const values: string[] = [];
    for (let i = 0; i < entries.length; i += 2) {
      if (entries[i] === key) values.push(entries[i + 1]!);
    }
    return values;
  }

  has(name: string): boolean {
    return this.#indexOfName(lowerCaseName(name), 0) !== -1;
  }

  /** Replaces every field called `name` by one, where the first of them was (at the end when none). */
  set(name: string, value: string): void {
    const key = lowerCaseName(name);
    const first = this.#indexOfName(key, 0);
    if (first === -1) {
      this.#entries.push(key, value);
      return;
    }
    this.#entries[first + 1] = value;
    this.#removeFrom(key, first + 2);
  }

  /** Adds a field at the end. */
  append(name: string, value: string): void {
    this.#entries.push(lowerCaseName(name), value);
  }

  /** Removes every field called `name`. */
  delete(name: string): void {
    const key = lowerCaseName(name);
    const first = this.#indexOfName(key, 0);
    if (first !== -1) this.#removeFrom(key, first);
  }

  /** Calls `callback(value, name)` for each field in arrival order, repeated fields separately. */
  forEach(callback: (value: string, name: string) => void): void {
    const entries = this.#entries;
    for (let i = 0; i < entries.length; i += 2) callback(entries[i + 1]!, entries[i]!);
  }

  #indexOfName(key: string, from: number): number {
    const entries = this.#entries;
    for (let i = from; i < entries.length; i += 2) {
      if (entries[i] === key) return i;
    }
    return -1;
  }

  /** Drops the fields called `key` at or after index `from`, compacting the array in place. */
  #removeFrom(key: string, from: number): void {
    const entries = this.#entries;
    let write = from;
    for (let read = from; read < entries.length; read += 2) {
      if (entries[read] === key) continue;
      entries[write] = entries[read]!;
      entries[write + 1] = entries[read + 1]!;
      write += 2;
    }
    entries.length = write;
  }
}

/** `name` lower-cased, calling toLowerCase only when it has an upper-case ASCII letter. */
function lowerCaseName(name: string): string {
  for (let i = 0; i < name.length; i++) {
    const code = name.charCodeAt(i);
    if (code >= 65 && code <= 90) return name.toLowerCase();
  }
  return name;
}
