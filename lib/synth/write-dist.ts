import * as fs from 'fs';
import * as path from 'path';

/**
 * Writes each folder's files into outdir/<folder>/ (dist/lab/, dist/lab-bootstrap/, ...) so that every
 * folder ends up the new one, or, if anything fails, every folder is the old one. (The stock
 * `cdk8s synth` deletes the output folder before it starts; a failed synth then leaves nothing to
 * review or apply.) A folder given no files is removed: an environment that no longer has bootstrap
 * files leaves no stale ones behind. Folders not named are left untouched, so `--env lab` rewrites
 * only dist/lab/ and dist/lab-bootstrap/. The folders stay plain folders (no symbolic links), as
 * `kubectl apply -f dist/lab/` and git want them.
 *
 * How, for outdir `dist`:
 * 1. Everything is written to `.dist-staging.<pid>/new/` beside dist/, with a journal naming each
 *    folder to switch and whether it exists now. A failure here changes nothing in dist/. A file
 *    dist/ already holds with the same bytes is linked, not written again; a large file several
 *    folders have (an add-on's CRDs) is written once and linked into each, so those folders' copies
 *    are one file on disk (a synth always replaces a file, never writes into one).
 * 2. That folder is renamed `.dist-switching/`: one rename, so the journal is there whole or not at
 *    all, and only one synth at a time switches.
 * 3. Folder by folder, dist/<folder> is moved to `.dist-switching/old/` and the new one moved in
 *    (two renames each; dist/ has no other way to replace a folder by another).
 * 4. The journal is renamed `switched.json` (from here on, every folder is the new one), then
 *    `.dist-switching/` is removed, with the old folders in it.
 *
 * If a rename of step 3 fails, the folders already switched are put back, and the error says every
 * folder is the old one. If even that fails (something else took a folder's place meanwhile), the
 * error is a DistWriteError that says, folder by folder, which is new, which old and where the rest
 * is, and `.dist-switching/` stays for the next synth.
 *
 * A synth killed at any point leaves `.dist-staging.<pid>/` (dist/ untouched) or `.dist-switching/`,
 * whose journal says exactly which folders it may have switched. The next write finds them and
 * resolves them before anything else, and says what it did: a journal means the switch was not
 * finished, so the old folders are put back; `switched.json` (or neither) means it was, so what is
 * left is only removed. Until then, a folder of dist/ may be missing or the new one beside old ones.
 */
export function writeDistAtomically(
  outdir: string,
  environments: ReadonlyMap<string, ReadonlyMap<string, string | Buffer>>,
  options: WriteDistOptions = {},
): void {
  const report = options.report ?? ((line: string) => console.error(line));
  const at = (step: string): void => {
    options.beforeStep?.(step);
    stopIfAsked(step);
  };
  const work = workFolders(outdir);
  fs.mkdirSync(work.parent, { recursive: true });
  resolveLeftovers(outdir, work, report);

  const staging = work.stagingOf(process.pid);
  fs.mkdirSync(staging);
  let journal: Journal;
  let handedOver = false;
  try {
    fs.writeFileSync(path.join(staging, OWNER), `${process.pid}\n`);
    fs.mkdirSync(path.join(staging, 'new'));
    fs.mkdirSync(path.join(staging, 'old'));
    stageFiles(outdir, path.join(staging, 'new'), environments);
    fs.mkdirSync(outdir, { recursive: true });
    journal = {
      pid: process.pid,
      folders: [...environments]
        .map(([name, files]) => {
          const oldInode = inodeOf(path.join(outdir, name));
          const newInode = files.size > 0 ? inodeOf(path.join(staging, 'new', name)) : undefined;
          return { name, hadOld: oldInode !== undefined, hasNew: newInode !== undefined, oldInode, newInode };
        })
        .filter((folder) => folder.hadOld || folder.hasNew),
    };
    fs.writeFileSync(path.join(staging, JOURNAL), `${JSON.stringify(journal, null, 2)}\n`);
    at('staged');
    try {
      fs.renameSync(staging, work.switching);
    } catch (error) {
      if (isCode(error, 'EEXIST', 'ENOTEMPTY')) {
        throw new Error(
          `another synth started switching ${outdir}/ at the same time (${work.switching} appeared); ` +
            `this one changed nothing in ${outdir}/: run it again when that one is done`,
          { cause: error },
        );
      }
      throw error;
    }
    handedOver = true;
  } finally {
    if (!handedOver) {
      fs.rmSync(staging, { recursive: true, force: true });
    }
  }
  switchFolders(outdir, work, journal, at);
}

export interface WriteDistOptions {
  /** Where to say what was done about what an interrupted synth left. @default console.error */
  readonly report?: (line: string) => void;
  /**
   * Called before each step of the write ("staged", "<folder>:out", "<folder>:in", "switched",
   * "committed"). For tests only: to put a real obstacle in the way of the next rename.
   * @default - none
   */
  readonly beforeStep?: (step: string) => void;
}

/**
 * The write failed after dist/ had begun to change, and putting the old folders back failed too:
 * the message says, folder by folder, what dist/ holds now. (A write that failed but put everything
 * back throws a plain Error.)
 */
export class DistWriteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DistWriteError';
  }
}

/**
 * Tests stop a writing process at a step to kill it there: with LAB_TO_PROD_WRITE_DIST_STOP_AT set
 * to a step's name, the process says so on stderr and waits for ever.
 */
const STOP_AT = 'LAB_TO_PROD_WRITE_DIST_STOP_AT';

function stopIfAsked(step: string): void {
  if (process.env[STOP_AT] === step) {
    // stderr is a pipe here; Node writes to pipes synchronously on Linux, so the line is out before the wait.
    process.stderr.write(`write-dist: stopped before step "${step}" (${STOP_AT}), waiting to be killed\n`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
  }
}

const OWNER = 'owner';
const JOURNAL = 'journal.json';
const SWITCHED = 'switched.json';
const PUT_BACK = 'put-back.json';

/** One folder of a switch, as the journal records it before the first rename. */
interface JournalFolder {
  /** outdir/<name>/ */
  readonly name: string;
  /** outdir/<name> existed before the switch: it is moved to old/<name>. */
  readonly hadOld: boolean;
  /** The write gave it files: new/<name> is moved to outdir/<name>. Without, the folder is only removed. */
  readonly hasNew: boolean;
  /**
   * The inodes of the old and the new folder (a rename keeps them): where each folder is can be read
   * from the disk, and a folder another program put in the way is never taken for one of them.
   */
  readonly oldInode?: string;
  readonly newInode?: string;
}

interface Journal {
  readonly pid: number;
  readonly folders: readonly JournalFolder[];
}

interface WorkFolders {
  readonly parent: string;
  /** `.dist-switching`: the one switch under way, or left by an interrupted synth. */
  readonly switching: string;
  /** `.dist-staging.<pid>`: one synth's files before its switch. */
  stagingOf(pid: number): string;
  /** The pid in the name of a staging folder, or undefined for any other name. */
  stagingPid(name: string): number | undefined;
}

/** The work folders beside outdir: on its file system, so that every move into place is a rename. */
function workFolders(outdir: string): WorkFolders {
  const parent = path.dirname(path.resolve(outdir));
  const base = path.basename(path.resolve(outdir));
  const stagingPrefix = `.${base}-staging.`;
  return {
    parent,
    switching: path.join(parent, `.${base}-switching`),
    stagingOf: (pid) => path.join(parent, `${stagingPrefix}${pid}`),
    stagingPid: (name) =>
      name.startsWith(stagingPrefix) && /^[0-9]+$/.test(name.slice(stagingPrefix.length))
        ? Number(name.slice(stagingPrefix.length))
        : undefined,
  };
}

/** Files from this size on are staged once per write, however many folders have them. */
const LARGE = 1 << 20;

/**
 * Writes every folder's files under `into`, each folder made once (a thousand workloads write a
 * thousand files). A large file several folders have, as the same Buffer or the same text (an
 * add-on's CRD file, megabytes long, in every environment that installs the add-on: lib/synth/render.ts),
 * is encoded and staged once, then linked into the other folders: its bytes are neither written
 * nor compared with the output again, and dist/ holds them once.
 */
function stageFiles(
  outdir: string,
  into: string,
  environments: ReadonlyMap<string, ReadonlyMap<string, string | Buffer>>,
): void {
  const folders = new Set<string>();
  const encoded = new Map<string, Buffer>();
  const stagedAt = new Map<Buffer, string>();
  for (const [env, files] of environments) {
    for (const [file, content] of files) {
      const target = path.join(into, env, file);
      const folder = path.dirname(target);
      if (!folders.has(folder)) {
        fs.mkdirSync(folder, { recursive: true });
        folders.add(folder);
      }
      const bytes = typeof content === 'string' ? encode(content, encoded) : content;
      const large = bytes.length >= LARGE;
      const staged = large ? stagedAt.get(bytes) : undefined;
      if (staged !== undefined && linked(staged, target)) {
        continue;
      }
      if (!linkedUnchanged(path.join(outdir, env, file), target, bytes)) {
        fs.writeFileSync(target, bytes);
      }
      if (large) stagedAt.set(bytes, target);
    }
  }
}

/** A text's UTF-8 bytes; a large text's, once per write (several folders may have it). */
function encode(content: string, encoded: Map<string, Buffer>): Buffer {
  if (content.length < LARGE / 4) {
    return Buffer.from(content);
  }
  let bytes = encoded.get(content);
  if (bytes === undefined) {
    bytes = Buffer.from(content);
    encoded.set(content, bytes);
  }
  return bytes;
}

/** Links target to a file staged by this write; false where the file system has no hard links. */
function linked(staged: string, target: string): boolean {
  try {
    fs.linkSync(staged, target);
    return true;
  } catch {
    return false;
  }
}

/**
 * Stages a file that is already in the output with exactly these bytes as a hard link to it, instead
 * of writing it again. After an edit most files come out the same: their data is neither written nor,
 * when the old folder is removed, freed (it is still linked), and they keep their inode and times, as
 * a file nobody changed does. Anything but a regular file with the same bytes, or a file system
 * without hard links, is written as usual.
 */
function linkedUnchanged(previous: string, target: string, bytes: Buffer): boolean {
  try {
    const stat = fs.lstatSync(previous);
    if (!stat.isFile() || stat.size !== bytes.length || !fs.readFileSync(previous).equals(bytes)) {
      return false;
    }
    fs.linkSync(previous, target);
    return true;
  } catch {
    return false;
  }
}

/** Steps 3 and 4: switches every folder of the journal, or puts back every one it had switched. */
function switchFolders(outdir: string, work: WorkFolders, journal: Journal, at: (step: string) => void): void {
  const where = places(outdir, work.switching);
  try {
    for (const folder of journal.folders) {
      if (folder.hadOld) {
        at(`${folder.name}:out`);
        fs.renameSync(where.dist(folder), where.old(folder));
      }
      if (folder.hasNew) {
        at(`${folder.name}:in`);
        fs.renameSync(where.fresh(folder), where.dist(folder));
      }
    }
    at('switched');
  } catch (error) {
    const { putBack, failures } = rollBack(outdir, work.switching, journal);
    const cause = `could not switch ${outdir}/ to the new output: ${messageOf(error)}`;
    if (failures.length > 0) {
      throw new DistWriteError(`${cause}\n${unfinishedRollBack(outdir, work.switching, journal, failures)}`);
    }
    finish(work.switching, PUT_BACK);
    const back = putBack.length > 0 ? `switched back ${putBack.join(', ')}: ` : '';
    throw new Error(`${cause}; ${back}every folder in ${outdir}/ is the old one`, { cause: error });
  }
  // The commit point: a synth killed from here on has switched every folder; only the old ones are left to remove.
  fs.renameSync(path.join(work.switching, JOURNAL), path.join(work.switching, SWITCHED));
  at('committed');
  finish(work.switching);
}

/**
 * Removes the switching folder once the journal is no longer needed. The journal is renamed to
 * `marker` first (unless it already was), and the old and new folders go before the markers: a
 * synth killed while removing leaves a folder that still says what happened, or nothing that matters.
 */
function finish(switching: string, marker?: string): void {
  if (marker !== undefined) {
    fs.renameSync(path.join(switching, JOURNAL), path.join(switching, marker));
  }
  fs.rmSync(path.join(switching, 'old'), { recursive: true, force: true });
  fs.rmSync(path.join(switching, 'new'), { recursive: true, force: true });
  fs.rmSync(switching, { recursive: true, force: true });
}

/** Where each folder of a switch is: in outdir, among the old ones, among the new ones. */
function places(outdir: string, switching: string) {
  return {
    dist: (folder: JournalFolder) => path.join(outdir, folder.name),
    old: (folder: JournalFolder) => path.join(switching, 'old', folder.name),
    fresh: (folder: JournalFolder) => path.join(switching, 'new', folder.name),
  };
}

/**
 * Where a folder of a switch is, read from the disk: `old` (not switched yet, or put back), `new`
 * (switched), `aside` (the old one moved out, the new one not yet in: outdir has no such folder), or
 * `unknown` (something else is where one of them should be).
 */
type FolderState = 'old' | 'new' | 'aside' | 'unknown';

function stateOf(outdir: string, switching: string, folder: JournalFolder): FolderState {
  const where = places(outdir, switching);
  const inDist = inodeOf(where.dist(folder));
  const oldAt = !folder.hadOld
    ? 'none'
    : inDist === folder.oldInode
      ? 'dist'
      : inodeOf(where.old(folder)) === folder.oldInode
        ? 'aside'
        : 'lost';
  const newAt = !folder.hasNew
    ? 'none'
    : inDist === folder.newInode
      ? 'dist'
      : inodeOf(where.fresh(folder)) === folder.newInode
        ? 'staged'
        : 'lost';
  // Where the new folder waits does not matter to the old state: a roll-back only needs the old one.
  if (folder.hadOld ? oldAt === 'dist' : inDist === undefined) {
    return 'old';
  }
  if ((folder.hasNew ? newAt === 'dist' : inDist === undefined) && (!folder.hadOld || oldAt === 'aside')) {
    return 'new';
  }
  return folder.hadOld && oldAt === 'aside' && inDist === undefined ? 'aside' : 'unknown';
}

/**
 * Puts every folder of the journal back to the old one, last first; goes on past a folder it cannot
 * put back. Returns the folders it moved and what failed.
 */
function rollBack(outdir: string, switching: string, journal: Journal): { putBack: string[]; failures: string[] } {
  const where = places(outdir, switching);
  const putBack: string[] = [];
  const failures: string[] = [];
  for (const folder of [...journal.folders].reverse()) {
    const state = stateOf(outdir, switching, folder);
    try {
      if (state === 'unknown') {
        throw new Error(
          exists(where.dist(folder))
            ? `${where.dist(folder)} is neither the old folder nor the new one: something else put it there during the switch`
            : `${where.dist(folder)} is missing, and its old folder is not in ${path.join(switching, 'old')}`,
        );
      }
      if (state === 'new' && folder.hasNew) {
        fs.renameSync(where.dist(folder), where.fresh(folder));
      }
      if (state !== 'old' && folder.hadOld) {
        fs.renameSync(where.old(folder), where.dist(folder));
      }
      if (state !== 'old') {
        putBack.unshift(where.dist(folder));
      }
    } catch (error) {
      failures.unshift(messageOf(error));
    }
  }
  return { putBack, failures };
}

/** What outdir holds after a roll-back that failed: folder by folder, and where the rest is. */
function unfinishedRollBack(outdir: string, switching: string, journal: Journal, failures: readonly string[]): string {
  const where = places(outdir, switching);
  const lines = [`and could not put every folder back: ${failures.join('; ')}`, `${outdir}/ now holds:`];
  for (const folder of journal.folders) {
    const elsewhere = [
      exists(where.old(folder)) ? `the old one is at ${where.old(folder)}` : '',
      exists(where.fresh(folder)) ? `the new one is at ${where.fresh(folder)}` : '',
    ]
      .filter((text) => text !== '')
      .join(', ');
    const state = stateOf(outdir, switching, folder);
    const what = {
      old: folder.hadOld ? 'the old one' : 'nothing, as before',
      new: folder.hasNew ? 'the new one' : 'nothing (the new output has none)',
      aside: 'nothing: the folder is missing',
      unknown: exists(where.dist(folder))
        ? 'neither: something else put it there during the switch'
        : 'nothing: the folder is missing',
    }[state];
    lines.push(`  ${where.dist(folder)}: ${what}${elsewhere === '' ? '' : ` (${elsewhere})`}`);
  }
  lines.push(
    `${switching} keeps the journal: once the above is fixed, the next synth puts the old folders back from it, then writes.`,
  );
  return lines.join('\n');
}

/**
 * Before a write: resolves what an interrupted synth left beside outdir (see writeDistAtomically), and
 * refuses to write while another synth is switching.
 */
function resolveLeftovers(outdir: string, work: WorkFolders, report: (line: string) => void): void {
  resolveOlderLeftovers(outdir, work.parent, report);
  for (const name of fs.readdirSync(work.parent).sort()) {
    const pid = work.stagingPid(name);
    if (pid !== undefined && !isRunning(pid)) {
      fs.rmSync(path.join(work.parent, name), { recursive: true, force: true });
      report(
        `removed ${path.join(work.parent, name)}, left by a synth (process ${pid}) interrupted before it changed ${outdir}/, which it did not touch`,
      );
    }
  }
  if (!exists(work.switching)) {
    return;
  }
  const owner = readOwner(work.switching);
  if (owner !== undefined && isRunning(owner)) {
    throw new Error(
      `another synth (process ${owner}) is switching ${outdir}/ now (${work.switching}): run this one when it is done. ` +
        `If no synth is running, process ${owner} is another program: remove ${path.join(work.switching, OWNER)} and run again`,
    );
  }
  const by = `a synth${owner === undefined ? '' : ` (process ${owner})`}`;
  const journalFile = path.join(work.switching, JOURNAL);
  if (exists(journalFile)) {
    const journal = readJournal(journalFile);
    const { putBack, failures } = rollBack(outdir, work.switching, journal);
    const found = `found ${work.switching}, left by ${by} interrupted while it switched ${outdir}/`;
    if (failures.length > 0) {
      throw new DistWriteError(`${found}; ${unfinishedRollBack(outdir, work.switching, journal, failures)}`);
    }
    finish(work.switching, PUT_BACK);
    report(
      putBack.length > 0
        ? `${found}: switched back ${putBack.join(', ')}, so every folder is as it was before that synth; removed the rest`
        : `${found}: every folder it names was still the old one; removed it`,
    );
    return;
  }
  const found = `found ${work.switching}, left by ${by} interrupted`;
  if (exists(path.join(work.switching, SWITCHED))) {
    report(
      `${found} after it had switched every folder of ${outdir}/ to its output; removed the old folders left in it`,
    );
  } else if (exists(path.join(work.switching, PUT_BACK))) {
    report(`${found} after it had put every folder of ${outdir}/ back to the old one; removed what was left in it`);
  } else {
    report(`${found} while it removed it, after it had finished with ${outdir}/; removed the rest`);
  }
  finish(work.switching);
}

/**
 * What the write of earlier versions of this project left when killed or failed: a staging folder
 * `.dist-staging-XXXXXX` beside dist/, and `dist/<folder>.previous`, an old folder moved aside. When
 * dist/<folder> is missing, the previous one is put back; when it is there, it is the newer one and
 * the previous one is removed.
 */
function resolveOlderLeftovers(outdir: string, parent: string, report: (line: string) => void): void {
  const staging = new RegExp(`^\\.${escapeRegExp(path.basename(path.resolve(outdir)))}-staging-[A-Za-z0-9]{6}$`);
  for (const name of fs.readdirSync(parent).sort()) {
    if (staging.test(name)) {
      fs.rmSync(path.join(parent, name), { recursive: true, force: true });
      report(`removed ${path.join(parent, name)}, the staging folder of an interrupted synth of an earlier version`);
    }
  }
  const names = fs.existsSync(outdir) && fs.statSync(outdir).isDirectory() ? fs.readdirSync(outdir).sort() : [];
  for (const name of names.filter((n) => n.endsWith('.previous') && n !== '.previous')) {
    const previous = path.join(outdir, name);
    if (!fs.lstatSync(previous).isDirectory()) {
      continue;
    }
    const folder = path.join(outdir, name.slice(0, -'.previous'.length));
    if (exists(folder)) {
      fs.rmSync(previous, { recursive: true, force: true });
      report(`found ${previous} from an interrupted synth of an earlier version; ${folder} is newer: removed it`);
    } else {
      fs.renameSync(previous, folder);
      report(
        `found ${previous} from an interrupted synth of an earlier version, and no ${folder}: put it back as ${folder}`,
      );
    }
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function readJournal(file: string): Journal {
  try {
    const journal = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<Journal> | null;
    if (!Array.isArray(journal?.folders)) {
      throw new Error('it has no list of folders');
    }
    return journal as Journal;
  } catch (error) {
    throw new Error(
      `cannot read ${file} (${messageOf(error)}): it says which output folders an interrupted synth was switching; ` +
        'compare the folders it names with git and put back the old ones by hand, then remove it',
      { cause: error },
    );
  }
}

function readOwner(folder: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(path.join(folder, OWNER), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a process runs with this id: not this one, which only reuses the id of one that died. */
function isRunning(pid: number): boolean {
  if (pid === process.pid) {
    return false;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return isCode(error, 'EPERM'); // it exists, as another user's
  }
}

/** The inode of a file or folder (not followed if a link), as text; undefined if there is none. */
function inodeOf(file: string): string | undefined {
  try {
    return String(fs.lstatSync(file, { bigint: true }).ino);
  } catch {
    return undefined;
  }
}

/**
 * An fs error's own message ("ENOTDIR: not a directory, rename 'a' -> 'b'"). Not errorText: under
 * jest, Node's errors come from another realm, are not `instanceof Error`, and would print as "Error: ...".
 */
function messageOf(error: unknown): string {
  const message = (error as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' ? message : String(error);
}

function exists(file: string): boolean {
  try {
    fs.lstatSync(file);
    return true;
  } catch {
    return false;
  }
}

function isCode(error: unknown, ...codes: string[]): boolean {
  return codes.includes((error as NodeJS.ErrnoException | undefined)?.code ?? '');
}
