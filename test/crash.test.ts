/**
 * Crash safety: define and modify killed with SIGKILL at random moments, 100 rounds, the moments
 * drawn from a seed the test prints (MDEVCTL_TEST_SEED=N replays it). After every round, every
 * definition under etc/mdevctl.d parses and is either the old or the new content (never partial),
 * anything else there is a writer's temp file that `list` skips silently, every command that was
 * not killed did all it said (and nothing it did is lost later), and the next command gets the
 * lock at once (the killed holder's lock is taken over). Properties of every run, not counts of
 * outcomes: where the kills land depends on the machine's load.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FakeTree } from './support/tree';
import { random, testSeed } from './support/seed';
import { startCli } from './support/spawn';
import { mdevctl, run } from './support/cli';
import { parseConfigText } from '../src/lib/model/device';
import { parseUuid } from '../src/lib/model/uuid';

const P = '0000:00:02.0';
const TYPE = 'i915-GVTg_V5_4';
const U = '976d8cc2-4bfc-43b9-b9f9-f4af2de91ab9';
const ROUNDS = 100;
const TEMP_FILE = /^\.[0-9a-f-]{36}\.\d+\.[0-9a-z]+\.tmp$/;

/** A definition large enough (about 60 KiB) that a write is not over in an instant. */
function bigConfig(n: number): object {
  return { mdev_type: TYPE, start: 'manual', attrs: Array.from({ length: n }, (_, i) => ({ [`attribute_${i}`]: 'x'.repeat(20) })) };
}

interface Seen {
  definitions: number;
  temps: number;
}

/** Every file under etc/mdevctl.d: definitions parse; anything else is a temp file. */
function checkStore(t: FakeTree, attrCounts: Set<number>): Seen {
  const seen: Seen = { definitions: 0, temps: 0 };
  const dir = t.p('etc/mdevctl.d', P);
  for (const name of fs.readdirSync(dir)) {
    const file = path.join(dir, name);
    if (parseUuid(name) === null) {
      expect(name).toMatch(TEMP_FILE);
      seen.temps++;
      continue;
    }
    const text = fs.readFileSync(file, 'utf8');
    const cfg = parseConfigText(text, file); // throws on a partial file
    expect(cfg.type).toBe(TYPE);
    if (name === U) attrCounts.add(cfg.attrs.length);
    seen.definitions++;
  }
  return seen;
}

test(`${ROUNDS} rounds of define and modify killed at random moments: never a partial definition`, async () => {
  const rand = random(testSeed('crash.test.ts'));
  const t = new FakeTree().withStandardDirs();
  try {
    t.addDefinition(P, U, bigConfig(2000));
    const base = 2000;
    // how long a command takes here, to spread the kills over its whole life
    const t0 = Date.now();
    const probe = mdevctl(t.root, 'modify', '-u', U, '--addattr', 'probe', '--value', '1');
    expect(probe.status).toBe(0);
    const span = Math.max(60, (Date.now() - t0) * 1.3);

    const attrCounts = new Set<number>();
    /** The attributes of the modifies that finished: each stays, whatever is killed after it. */
    const landed: string[] = ['probe'];
    let killed = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const second = round % 2 ? ['define', '-p', P, '-t', TYPE] : ['modify', '-u', U, round % 4 ? '--auto' : '--manual'];
      const runs = [startCli(t.root, ['modify', '-u', U, '--addattr', `r${round}`, '--value', String(round)]), startCli(t.root, second)];
      // each round's moments from the seed, spread over the window: round by round across it
      for (const r of runs) setTimeout(() => r.child.kill('SIGKILL'), ((round + rand()) / ROUNDS) * span);
      const results = await Promise.all(runs.map((r) => r.done));
      for (const r of results) {
        if (r.signal === 'SIGKILL') killed++;
        else expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
      }
      checkStore(t, attrCounts);
      // every run that finished did all it said: its change is there, and every earlier one too
      const cfg = JSON.parse(t.read(`etc/mdevctl.d/${P}/${U}`));
      const names = (cfg.attrs as Array<Record<string, string>>).map((a) => Object.keys(a)[0]);
      if (results[0].signal === null) landed.push(`r${round}`);
      expect({ round, missing: landed.filter((n) => !names.includes(n)) }).toEqual({ round, missing: [] });
      expect(new Set(names).size).toBe(names.length);
      if (results[1].signal === null && second[0] === 'modify') expect({ round, start: cfg.start }).toEqual({ round, start: round % 4 ? 'auto' : 'manual' });
      if (results[1].signal === null && second[0] === 'define') {
        expect(results[1].stdout).toMatch(/^[0-9a-f-]{36}\n$/);
        const made = JSON.parse(t.read(`etc/mdevctl.d/${P}/${results[1].stdout.trim()}`));
        expect(made).toEqual({ mdev_type: TYPE, start: 'manual', attrs: [] });
      }
    }
    process.stderr.write(`crash.test.ts: ${killed} of ${2 * ROUNDS} runs killed, ${attrCounts.size} attribute counts seen, span ${span} ms\n`);

    // the store works as before: list -d sees every definition without a warning, the next
    // modify takes the lock at once (a killed holder's lock is stale) and lands
    const listed = run(['list', '-d', '--dumpjson'], { root: t.root });
    expect({ status: listed.status, stderr: listed.stderr }).toEqual({ status: 0, stderr: '' });
    const { definitions } = checkStore(t, attrCounts);
    expect((JSON.parse(listed.stdout)[0][P] as unknown[]).length).toBe(definitions);
    const last = run(['modify', '-u', U, '--addattr', 'last', '--value', '1'], { root: t.root, env: { MDEVCTL_LOCK_TIMEOUT: '0' } });
    expect({ status: last.status, stderr: last.stderr }).toEqual({ status: 0, stderr: '' });
    const cfg = JSON.parse(t.read(`etc/mdevctl.d/${P}/${U}`));
    expect(cfg.attrs.length).toBeGreaterThanOrEqual(base + 2);
    expect(cfg.attrs[cfg.attrs.length - 1]).toEqual({ last: '1' });
  } finally {
    t.cleanup();
  }
}, 300_000); // 200 processes: on a loaded shared machine this takes longer than jest's default 60 s

describe('what a killed writer leaves behind', () => {
  const dead = () => {
    const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
      encoding: 'utf8',
    });
    return Number(r.stdout);
  };

  test('its temp file is never listed; the next command that holds the lock removes it, a live writer’s is kept', () => {
    const t = new FakeTree().withStandardDirs();
    try {
      t.addDefinition(P, U, { mdev_type: TYPE, start: 'manual', attrs: [] });
      const stale = `.${U}.${dead()}.lq2x0a1.tmp`;
      const live = `.${U}.${process.pid}.lq2x0a2.tmp`;
      t.write(`etc/mdevctl.d/${P}/${stale}`, '{"mdev_type": "half');
      t.write(`etc/mdevctl.d/${P}/${live}`, '{"mdev_type": "half');
      const listed = mdevctl(t.root, 'list', '-d');
      expect({ status: listed.status, stdout: listed.stdout, stderr: listed.stderr }).toEqual({
        status: 0,
        stdout: `${U} ${P} ${TYPE} manual\n`,
        stderr: '',
      });
      // list takes no lock and removes nothing; a dry run neither
      expect(mdevctl(t.root, '--dry-run', 'modify', '-u', U, '--auto').status).toBe(0);
      expect(fs.readdirSync(t.p('etc/mdevctl.d', P)).sort()).toEqual([stale, live, U].sort());
      // a normal modify (the lock free, nothing taken over) removes the dead writer's temp file
      expect(mdevctl(t.root, 'modify', '-u', U, '--auto')).toEqual({ status: 0, stdout: '', stderr: '' });
      expect(fs.readdirSync(t.p('etc/mdevctl.d', P)).sort()).toEqual([live, U].sort());
      expect(JSON.parse(t.read(`etc/mdevctl.d/${P}/${U}`)).start).toBe('auto');
      // in every parent's directory, also for a command about another device (here a define)
      const P2 = '0000:00:03.0';
      const stale2 = `.${U}.${dead()}.lq2x0a3.tmp`;
      t.write(`etc/mdevctl.d/${P2}/${stale2}`, '');
      t.write(`etc/mdevctl.d/${P}/${stale}`, '{"mdev_type": "half');
      const V = '11111111-2222-4333-8444-555555555555';
      expect(mdevctl(t.root, 'define', '-u', V, '-p', P, '-t', TYPE)).toEqual({ status: 0, stdout: '', stderr: '' });
      expect(fs.readdirSync(t.p('etc/mdevctl.d', P)).sort()).toEqual([live, U, V].sort());
      expect(fs.readdirSync(t.p('etc/mdevctl.d', P2))).toEqual([]);
      // the killed writer held the lock: the next holder takes it over and cleans up after it too
      t.write(`etc/mdevctl.d/${P}/${stale}`, '{"mdev_type": "half');
      fs.mkdirSync(t.p('run/lock/mdevctl.lock'));
      fs.writeFileSync(t.p(`run/lock/mdevctl.lock/owner-${dead()}-1-0badcafe`), '');
      expect(mdevctl(t.root, 'modify', '-u', U, '--manual').status).toBe(0);
      expect(fs.readdirSync(t.p('etc/mdevctl.d', P)).sort()).toEqual([live, U, V].sort());
      expect(fs.readdirSync(t.p('run/lock'))).toEqual([]);
    } finally {
      t.cleanup();
    }
  });
});
