/**
 * `apply` is all or nothing even when killed: SIGKILL at random moments, round after round,
 * alternating between two states of 130 definitions (modify 80, define 30 under a new parent,
 * undefine 20). After every kill:
 * - a reader (`list -d --dumpjson`, which takes no lock) sees exactly the old or the new state,
 *   before any recovery;
 * - the next command that takes the lock rolls a half-done run back (and says so), and the files
 *   under etc/mdevctl.d are then exactly the old or the new state (directories included: a parent
 *   directory the killed run created is gone again), with no journal or temp file left;
 * - a journal left behind always means the old state, a run that finished the new one.
 * Some recoveries are killed too (a rollback is redone by the next command). Some runs are
 * stopped half way first: a reader then sees the old state while the live run's journal is there.
 * The moments are drawn from a seed the test prints (MDEVCTL_TEST_SEED=N replays it). Every round
 * is checked for these properties, whatever its outcome; how often each outcome comes up depends
 * on the machine's load, so it is printed, not asserted.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FakeTree } from './support/tree';
import { random, testSeed } from './support/seed';
import { run } from './support/cli';
import { startCli } from './support/spawn';

const P0 = 'p0';
const P1 = 'p1';
const P2 = 'p2';
const TYPE = 'vt';
const ROUNDS = 45;

const uuid = (p: number, i: number) => `${String(p).repeat(8)}-0000-4000-8000-${String(i).padStart(12, '0')}`;
type Cfg = { mdev_type: string; start: string; attrs: Array<Record<string, string>> };
const dev = (u: string, c: Cfg) => ({ [u]: c });

/** State A: P0 (80, value a) and P2 (20). State B: P0 changed, P1 new (30), P2 gone. */
function stateA(): object {
  return [
    {
      [P0]: Array.from({ length: 80 }, (_, i) => dev(uuid(1, i), { mdev_type: TYPE, start: 'manual', attrs: [{ v: `a${i}` }] })),
      [P2]: Array.from({ length: 20 }, (_, i) => dev(uuid(3, i), { mdev_type: TYPE, start: 'auto', attrs: [] })),
    },
  ];
}

function stateB(): object {
  return [
    {
      [P0]: Array.from({ length: 80 }, (_, i) => dev(uuid(1, i), { mdev_type: TYPE, start: 'auto', attrs: [{ v: `b${i}` }, { w: 'x' }] })),
      [P1]: Array.from({ length: 30 }, (_, i) => dev(uuid(2, i), { mdev_type: TYPE, start: 'manual', attrs: [{ n: String(i) }] })),
    },
  ];
}

/** Everything under etc/mdevctl.d except scripts.d: directories and files with content. */
function snap(t: FakeTree): string {
  const out: string[] = [];
  const base = t.p('etc/mdevctl.d');
  for (const p of fs.readdirSync(base).sort()) {
    if (p === 'scripts.d') continue;
    out.push(`${p}/`);
    for (const u of fs.readdirSync(path.join(base, p)).sort()) out.push(`${p}/${u}=${fs.readFileSync(path.join(base, p, u), 'utf8')}`);
  }
  return out.join('\n');
}

const listed = (t: FakeTree) => run(['list', '-d', '--dumpjson'], { root: t.root });

test('apply killed at random moments: readers and the store see the old or the new state, never a mix', async () => {
  const rand = random(testSeed('apply-crash.test.ts'));
  const t = new FakeTree().withStandardDirs();
  try {
    for (const p of [P0, P1, P2]) t.addParent(p, { [TYPE]: { available: 100 } });
    const fileA = t.p('a.json');
    const fileB = t.p('b.json');
    const empty = t.p('empty.json');
    fs.writeFileSync(fileA, JSON.stringify(stateA()));
    fs.writeFileSync(fileB, JSON.stringify(stateB()));
    fs.writeFileSync(empty, '[]');
    const journal = t.p('var/lib/mdevctl/apply.journal');

    // the states, and how long a run takes here (to spread the kills over its whole life)
    expect(run(['apply', '--jsonfile', fileA], { root: t.root }).status).toBe(0);
    const snapA0 = snap(t);
    const listA = listed(t).stdout;
    const t0 = Date.now();
    expect(run(['apply', '--jsonfile', fileB, '--prune-all'], { root: t.root }).stdout).toMatch(
      /^.*\n[^]*30 defined, 80 modified, 20 undefined, 0 unchanged\n$/,
    );
    const span = Math.max(100, (Date.now() - t0) * 1.2);
    const snapB = snap(t);
    const listB = listed(t).stdout;
    expect(run(['apply', '--jsonfile', fileA, '--prune-all'], { root: t.root }).status).toBe(0);
    const snapA1 = snap(t); // as A0, with P1's directory left (empty) by the undefines
    expect(snapA1.replace(`\n${P1}/\n`, '\n')).toBe(snapA0);
    expect(snapA1).not.toBe(snapA0);
    expect(listed(t).stdout).toBe(listA);

    const seen = { untouched: 0, rolledBack: 0, finished: 0, recoveryKilled: 0, readDuringRun: 0 };
    for (let round = 0; round < ROUNDS; round++) {
      const before = snap(t);
      const toB = before !== snapB;
      const after = toB ? snapB : snapA1;
      const r = startCli(t.root, ['apply', '--jsonfile', toB ? fileB : fileA, '--prune-all']);
      let timer: NodeJS.Timeout | undefined;
      const kill = () => r.child.kill('SIGKILL');
      if (round % 3 !== 1) {
        // anywhere in the run's life (round % 3 == 0: early, before or around the first write),
        // up to well past its usual length (a run spawned beside the test's own work can take
        // longer than the one measured)
        timer = setTimeout(kill, rand() * span * (round % 3 === 0 ? 0.4 : 1.5));
      } else {
        // aimed at the writes: stopped (SIGSTOP) at the first file event in P0 (the plan's first
        // parent) or a little after it; a reader then sees the old state while the journal is
        // there (its writer is alive, merely stopped); then killed
        let fired = false;
        let watcher: fs.FSWatcher | undefined;
        const stopped = await new Promise<boolean>((resolve) => {
          watcher = fs.watch(t.p('etc/mdevctl.d', P0), () => {
            if (fired) return;
            fired = true;
            setTimeout(() => resolve(r.child.kill('SIGSTOP')), rand() * 30);
          });
          void r.done.then(() => resolve(false));
        });
        watcher!.close();
        if (stopped && fs.existsSync(journal)) {
          seen.readDuringRun++;
          expect(listed(t).stdout).toBe(toB ? listA : listB);
        }
        kill();
      }
      const res = await r.done;
      clearTimeout(timer);
      if (res.signal === null) expect({ status: res.status, stderr: res.stderr }).toEqual({ status: 0, stderr: '' });

      // a reader, before any recovery: the old or the new state, nothing else
      const l = listed(t);
      expect({ status: l.status, stderr: l.stderr }).toEqual({ status: 0, stderr: '' });
      expect([listA, listB]).toContain(l.stdout);
      const left = fs.existsSync(journal);
      if (left) expect(l.stdout).toBe(toB ? listA : listB);

      // sometimes the recovery is killed as well
      if (left && round % 3 === 0) {
        const k = startCli(t.root, ['apply', '--jsonfile', empty]);
        setTimeout(() => k.child.kill('SIGKILL'), rand() * span * 0.5);
        if ((await k.done).signal !== null) seen.recoveryKilled++;
      }
      // the next command that takes the lock rolls back what is left (this one changes nothing)
      const rec = run(['apply', '--jsonfile', empty], { root: t.root });
      expect(rec.status).toBe(0);
      expect(rec.stdout).toBe('0 defined, 0 modified, 0 undefined, 0 unchanged\n');
      expect(fs.existsSync(journal)).toBe(false);
      expect(rec.stderr).toMatch(/^(|Warning: Rolled back an interrupted 'mdevctl apply' \(process \d+\): 130 definition\(s\) restored from .*\n)$/);

      const state = snap(t);
      expect([before, after]).toContain(state);
      if (left) expect(state).toBe(before);
      if (res.signal === null) expect(state).toBe(after);
      expect(listed(t).stdout).toBe(state === snapB ? listB : listA);
      expect(fs.readdirSync(t.p('var/lib/mdevctl')).filter((n) => n !== 'apply.journal')).toEqual([]);

      if (state === after) seen.finished++;
      else if (left) seen.rolledBack++;
      else seen.untouched++;
    }
    process.stderr.write(`apply-crash.test.ts: ${JSON.stringify(seen)} in ${ROUNDS} rounds, span ${span} ms\n`);
  } finally {
    t.cleanup();
  }
}, 600_000);
