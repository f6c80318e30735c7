/**
 * A bounded map with approximately least-recently-used eviction. A Map keeps insertion
 * order, so the first key is the oldest; a hit moves its key to the end only when it is in
 * the older half (moving it on every hit, a delete and a set, costs more than the lookup).
 * The library's per-leaf verdict cache: never more than `limit` entries, whatever clients send.
 */
export class BoundedCache<K, V> {
  private readonly map = new Map<K, {value: V; stamp: number}>();
  /** Insertions so far: an entry's stamp says how recently it was (re)inserted. */
  private clock = 0;

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`cache limit ${limit} is not a positive integer`);
  }

  get size(): number {
    return this.map.size;
  }

  get(key: K): V | undefined {
    const e = this.map.get(key);
    if (e === undefined) return undefined;
    if (this.clock - e.stamp > this.limit / 2) {
      this.map.delete(key);
      e.stamp = ++this.clock;
      this.map.set(key, e);
    }
    return e.value;
  }

  set(key: K, value: V): void {
    if (this.map.has(key)) this.map.delete(key);
    else if (this.map.size >= this.limit) this.map.delete(this.map.keys().next().value as K);
    this.map.set(key, {value, stamp: ++this.clock});
  }

  clear(): void {
    this.map.clear();
  }
}
