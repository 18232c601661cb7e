// The rows this page holds: the newest STORE_MAX packets it was given, in
// packet-number order. The table shows the newest matching maxRows of them;
// keeping more than that lets a filter change find rows at once.
export const STORE_MAX = 5000;

export class RowStore {
  constructor() {
    this.rows = [];
    this.seqs = new Set();
    this.clearedAt = 0; // rows up to here were cleared by the user
  }

  get newestSeq() {
    return this.rows.length ? this.rows[this.rows.length - 1].seq : this.clearedAt;
  }

  // Adds rows (any order, duplicates ignored); returns how many were new.
  add(rows) {
    const fresh = rows.filter((r) => r && typeof r.seq === 'number' && r.seq > this.clearedAt && !this.seqs.has(r.seq));
    if (!fresh.length)
      return 0;
    fresh.sort((a, b) => a.seq - b.seq);
    const inOrder = !this.rows.length || fresh[0].seq > this.rows[this.rows.length - 1].seq;
    for (const r of fresh) {
      this.seqs.add(r.seq);
      this.rows.push(r);
    }
    // Backfills (a filter change, the first load) may land in the middle.
    if (!inOrder)
      this.rows.sort((a, b) => a.seq - b.seq);
    this.trim();
    return fresh.length;
  }

  trim() {
    const extra = this.rows.length - STORE_MAX;
    if (extra <= 0)
      return;
    for (const r of this.rows.splice(0, extra))
      this.seqs.delete(r.seq);
  }

  // Newest first, at most `limit` rows that pass `match`.
  newest(limit, match) {
    const out = [];
    for (let i = this.rows.length - 1; i >= 0 && out.length < limit; i--)
      if (match(this.rows[i]))
        out.push(this.rows[i]);
    return out;
  }

  clear() {
    this.clearedAt = Math.max(this.clearedAt, this.newestSeq);
    this.rows = [];
    this.seqs.clear();
  }
}
