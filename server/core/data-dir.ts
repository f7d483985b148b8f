/**
 * The data folder is onair's alone: one server at a time (a lock file holding the pid), and
 * readable by the account that runs it only (the folder 0700), since it holds every stream key.
 *
 * The lock is a file created with O_EXCL. A lock whose pid is no longer running (the server
 * crashed or was killed) is stale and taken over; a live one refuses the start.
 */
import { chmodSync, closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';

export const LOCK_FILE = 'onair.lock';

/** Another onair runs on the data folder (or the lock cannot be taken). */
export class DataDirLockedError extends Error {
  override name = 'DataDirLockedError';
  readonly code = 'data_dir_locked';
}

export interface DataDirLock {
  readonly file: string;
  /** Removes the lock file if it is still ours. Idempotent. */
  release(): void;
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, under another account.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function holder(file: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Creates the data folder if needed and makes it 0700 (an existing one too). */
export function secureDataDir(dataDir: string): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  chmodSync(dataDir, 0o700);
}

/** Takes the data folder's lock, or throws DataDirLockedError naming the pid that holds it. */
export function lockDataDir(dataDir: string, pid = process.pid): DataDirLock {
  const file = path.join(dataDir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    let fd: number;
    try {
      fd = openSync(file, 'wx', 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const other = holder(file);
      if (other !== undefined && other !== pid && running(other))
        throw new DataDirLockedError(`another onair (pid ${String(other)}) uses ${dataDir}`);
      // Stale (its server is gone) or half-written by a crash: take it over.
      try {
        unlinkSync(file);
      } catch {
        // Another start took it over first: the next attempt decides.
      }
      continue;
    }
    writeSync(fd, `${String(pid)}\n`);
    closeSync(fd);
    let released = false;
    return {
      file,
      release() {
        if (released) return;
        released = true;
        if (holder(file) === pid) unlinkSync(file);
      },
    };
  }
  throw new DataDirLockedError(`the lock ${file} cannot be taken`);
}
