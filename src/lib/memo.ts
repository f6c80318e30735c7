/**
 * A bounded memo for pure functions of small keys (OID bytes, name DER, instants): the value
 * for `key`, made by `make(arg)` the first time; the map is emptied when it reaches `limit`,
 * so a client sending ever new values cannot grow it.
 */
export function remember<K, A, V>(memo: Map<K, V>, key: K, limit: number, make: (arg: A) => V, arg: A): V {
  let v = memo.get(key);
  if (v === undefined) {
    v = make(arg);
    if (memo.size >= limit) memo.clear();
    memo.set(key, v);
  }
  return v;
}
