// How much storage a FunctionPool Durable Object uses: its SQLite file under
// the platform's persistTo (Miniflare keeps one file per object, named by the
// object's id). File sizes alone mislead (the WAL file keeps its high-water
// size, the main file lags the WAL), so this reads the database's logical
// size the way SQLite itself would: page 1's header (page count, free pages)
// taken from the newest committed copy of page 1 — in the WAL if it is there.
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

export interface PoolStorage {
  file: string;
  pageSize: number;
  pages: number;
  freePages: number;
  /** (pages - free pages) × page size: what the rows and indexes occupy. */
  usedBytes: number;
  /** Raw sizes on disk, for reference. */
  fileBytes: number;
  walBytes: number;
}

export function poolSqliteFile(persistTo: string, poolId: string): string {
  const doDir = join(persistTo, "v3", "do");
  const dirs = existsSync(doDir) ? readdirSync(doDir).filter((d) => d.endsWith("-FunctionPool")) : [];
  for (const d of dirs) {
    const file = join(doDir, d, `${poolId}.sqlite`);
    if (existsSync(file)) return file;
  }
  throw new Error(`no SQLite file for pool ${poolId} under ${doDir} (looked in ${dirs.join(", ") || "nothing"})`);
}

export function poolStorage(persistTo: string, poolId: string): PoolStorage {
  const file = poolSqliteFile(persistTo, poolId);
  const main = readFileSync(file);
  const wal = existsSync(`${file}-wal`) ? readFileSync(`${file}-wal`) : Buffer.alloc(0);
  const rawPageSize = main.readUInt16BE(16);
  const pageSize = rawPageSize === 1 ? 65_536 : rawPageSize;
  let page1: Buffer = main.subarray(0, 100);
  let pages = main.readUInt32BE(28);
  if (wal.length >= 32 && (wal.readUInt32BE(0) & 0xfffffffe) === 0x377f0682) {
    const walPageSize = wal.readUInt32BE(8);
    const salt1 = wal.readUInt32BE(16);
    const salt2 = wal.readUInt32BE(20);
    const frameSize = 24 + walPageSize;
    let pending1: Buffer | null = null;
    for (let off = 32; off + frameSize <= wal.length; off += frameSize) {
      if (wal.readUInt32BE(off + 8) !== salt1 || wal.readUInt32BE(off + 12) !== salt2) break; // frames of an older WAL generation
      const pageNo = wal.readUInt32BE(off);
      const commitSize = wal.readUInt32BE(off + 4);
      if (pageNo === 1) pending1 = wal.subarray(off + 24, off + 24 + 100);
      if (commitSize > 0) {
        pages = commitSize;
        if (pending1) page1 = pending1;
        pending1 = null;
      }
    }
  }
  const freePages = page1.readUInt32BE(36);
  return { file, pageSize, pages, freePages, usedBytes: (pages - freePages) * pageSize, fileBytes: statSync(file).size, walBytes: wal.length };
}
