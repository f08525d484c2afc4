/**
 * Property-based tests (fast-check): any input gives either a valid result or a clean error,
 * never a crash. The definition parser and the name and UUID checks run in-process on a great
 * many inputs; the command line runs as the real CLI on random argument lists (fewer runs, each
 * is a process). A failure prints the seed and the shrunk counterexample to replay it.
 */
import { testSeed } from './support/seed';
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { FakeTree } from './support/tree';
import { run } from './support/cli';
import { MDev, parseConfigText, parseConfigValue } from '../src/lib/model/device';
import { MdevctlError, escapeControls } from '../src/lib/util/errors';
import { escapeForTerminal } from '../src/lib/util/terminal';
import { parseUuid, uuidProblem } from '../src/lib/model/uuid';
import { checkAttributeName, checkParentName, isSafeName } from '../src/lib/model/validate';

const CONTROL = /[\x00-\x1f\x7f]/;

/** Run F: it returns, or throws an MdevctlError with a one-line message (no other error). */
function validOrClean<T>(f: () => T): { ok: true; value: T } | { ok: false; message: string } {
  try {
    return { ok: true, value: f() };
  } catch (e) {
    if (!(e instanceof MdevctlError)) throw new Error(`not a clean error: ${(e as Error)?.stack ?? String(e)}`);
    expect(e.message).not.toMatch(CONTROL);
    expect(e.message.length).toBeGreaterThan(0);
    return { ok: false, message: e.message };
  }
}

function expectParsedShape(cfg: { type: unknown; autostart: unknown; attrs: unknown }): void {
  expect(typeof cfg.type).toBe('string');
  expect(typeof cfg.autostart).toBe('boolean');
  expect(Array.isArray(cfg.attrs)).toBe(true);
  for (const a of cfg.attrs as unknown[]) {
    expect(Array.isArray(a) && a.length === 2 && typeof a[0] === 'string' && typeof a[1] === 'string').toBe(true);
  }
}

/** Objects shaped like definitions, each field present or not, right or wrong. */
const definitionLike = fc.record(
  {
    mdev_type: fc.oneof(fc.string(), fc.jsonValue()),
    start: fc.oneof(fc.constantFrom('auto', 'manual'), fc.jsonValue()),
    attrs: fc.oneof(fc.array(fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.jsonValue()), { maxKeys: 3 })), fc.jsonValue()),
    extra: fc.jsonValue(),
  },
  { requiredKeys: [] },
);

describe('the definition parser (parseConfigText)', () => {
  test('any text: a config of the right shape, or one clean line', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary' }), fc.json(), fc.string({ unit: 'grapheme-ascii' })), (text) => {
        const r = validOrClean(() => parseConfigText(text, '/some/file'));
        if (r.ok) expectParsedShape(r.value);
      }),
      { numRuns: 2000 },
    );
  });

  test('any JSON value and anything shaped like a definition: valid or a clean error', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), definitionLike), (value) => {
        const text = JSON.stringify(value) ?? 'undefined';
        const r = validOrClean(() => parseConfigText(text));
        if (r.ok) {
          expectParsedShape(r.value);
          const v = value as Record<string, unknown>;
          expect(r.value.type).toBe(v.mdev_type);
          expect(r.value.autostart).toBe(v.start === 'auto');
        }
        validOrClean(() => parseConfigValue(value));
      }),
      { numRuns: 2000 },
    );
  });

  test('text with a definition cut at any byte (a torn write) is never taken as valid unless it is whole', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.array(fc.tuple(fc.string(), fc.string()), { maxLength: 5 }), fc.nat(), (type, attrs, cut) => {
        const dev = new MDev('976d8cc2-4bfc-43b9-b9f9-f4af2de91ab9', 'p', type);
        dev.attrs = attrs;
        const text = dev.toDefinitionText();
        const at = cut % text.length;
        const r = validOrClean(() => parseConfigText(text.slice(0, at)));
        expect(r.ok).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });

  test('every definition written reads back the same', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary' }),
        fc.boolean(),
        fc.array(fc.tuple(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' })), { maxLength: 8 }),
        (type, autostart, attrs) => {
          const dev = new MDev('976d8cc2-4bfc-43b9-b9f9-f4af2de91ab9', 'p', type);
          dev.autostart = autostart;
          dev.attrs = attrs;
          const back = parseConfigText(dev.toDefinitionText());
          expect(back).toEqual({ type, autostart, attrs });
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('names and UUIDs', () => {
  test('an accepted parent name is one component inside its directory; an accepted attribute stays inside the device', () => {
    const part = fc.oneof(fc.string({ unit: 'binary', maxLength: 8 }), fc.constantFrom('..', '.', '', 'nvidia'));
    const name = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.array(part, { minLength: 1, maxLength: 4 }).map((ps) => ps.join('/')),
      fc.constantFrom('..', '.', '/', 'a/..', '../x', '/etc/passwd', '\0', 'x'.repeat(300)),
    );
    fc.assert(
      fc.property(name, (n) => {
        const dir = '/root/sys/devices/p/u';
        const asParent = validOrClean(() => checkParentName(n));
        expect(asParent.ok).toBe(isSafeName(n));
        if (asParent.ok) {
          expect(path.dirname(path.join(dir, n))).toBe(dir);
          expect(path.basename(path.join(dir, n))).toBe(n);
        }
        const asAttr = validOrClean(() => checkAttributeName(n));
        if (asAttr.ok) {
          const joined = path.join(dir, n);
          expect(joined.startsWith(`${dir}/`)).toBe(true);
          expect(joined).toBe(`${dir}/${n}`); // nothing to normalise away: no '.', '..' or '//'
        }
      }),
      { numRuns: 3000 },
    );
  });

  test('parseUuid: null, or the canonical form that parses to itself; the problem of a non-UUID is one clean line', () => {
    const canonical = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary' }),
          fc.uuid(),
          fc.uuid().map((u) => `{${u.toUpperCase()}}`),
          fc.uuid().map((u) => `urn:uuid:${u}`),
          fc.uuid().map((u) => u.replace(/-/g, '')),
        ),
        (text) => {
          const u = parseUuid(text);
          if (u === null) {
            const p = uuidProblem(text);
            expect(p).not.toMatch(CONTROL);
          } else {
            expect(u).toMatch(canonical);
            expect(parseUuid(u)).toBe(u);
            expect(u.replace(/-/g, '')).toBe(text.toLowerCase().replace(/^urn:uuid:|[{}-]/g, ''));
          }
        },
      ),
      { numRuns: 3000 },
    );
  });

  test('escapeControls leaves no control character (but the newlines asked to be kept)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        expect(escapeControls(s)).not.toMatch(CONTROL);
        expect(escapeControls(s, true).replace(/\n/g, '')).not.toMatch(CONTROL);
        expect(escapeControls(s, true).split('\n').length).toBe(s.split('\n').length);
      }),
      { numRuns: 2000 },
    );
  });

  test('escapeForTerminal leaves nothing a terminal acts on, and changes nothing else', () => {
    const actedOn = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        const e = escapeForTerminal(s);
        expect(e).not.toMatch(actedOn);
        expect(e.split('\t').length).toBe(s.split('\t').length);
        expect(e.split('\n').length).toBe(s.split('\n').length);
        if (!actedOn.test(s)) expect(e).toBe(s);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('the command line, as a process', () => {
  const P = '0000:00:02.0';
  const TYPE = 'i915-GVTg_V5_4';
  const U = '976d8cc2-4bfc-43b9-b9f9-f4af2de91ab9';
  // every run starts from this same tree, made afresh in the same directory (so that the paths
  // the commands name stay valid): what one run changed never decides what the next one sees,
  // and a shrunk counterexample replays as it failed
  const t = new FakeTree();
  const good = t.p('good.json');
  const notJson = t.p('bad.json');
  function freshTree(): void {
    fs.rmSync(t.root, { recursive: true, force: true });
    fs.mkdirSync(t.root, { mode: 0o700 });
    t.withStandardDirs();
    t.addParent(P, { [TYPE]: { available: 4 } });
    t.addActive('59e8b599-afdd-4766-a59e-415ef4f5a492', P, TYPE);
    t.addDefinition(P, U, { mdev_type: TYPE, start: 'auto', attrs: [{ a: '1' }] });
    fs.writeFileSync(good, JSON.stringify({ mdev_type: TYPE, start: 'manual', attrs: [{ b: '2' }] }));
    fs.writeFileSync(notJson, '{"mdev_type": ');
  }
  freshTree();
  afterAll(() => t.cleanup());

  const noNul = (s: string) => !s.includes('\0');
  // --root is left out on purpose: a random root could point the tool at the real /etc
  const notRoot = (s: string) => !s.startsWith('--r') && !s.startsWith('-r');
  const text = fc.string({ unit: 'binary', maxLength: 40 }).filter((s) => noNul(s) && notRoot(s));
  const value = fc.oneof(
    fc.constantFrom(U, U.toUpperCase(), `{${U}}`, '59e8b599-afdd-4766-a59e-415ef4f5a492', P, P.toUpperCase(), TYPE),
    fc.constantFrom(good, notJson, t.p('missing.json'), t.root, '/dev/stdin', '-', '/dev/null'),
    fc.constantFrom('../x', '/etc/passwd', '..', '.', '', 'a/b', 'x'.repeat(300), '0', '1', '7', '-1', '+2', '99999999999999'),
    text,
  );
  const valued = fc.constantFrom('-u', '--uuid', '-p', '--parent', '-t', '--type', '--jsonfile', '--addattr', '--value', '-i', '--index');
  const bare = fc.constantFrom(
    '-a',
    '--auto',
    '-m',
    '--manual',
    '--delattr',
    '-l',
    '--live',
    '-d',
    '--defined',
    '-v',
    '--verbose',
    '--dumpjson',
    '-f',
    '--force',
    '-h',
    '--help',
    '-V',
    '--version',
    '--',
    '-x',
    '--bogus',
  );
  const option = fc.oneof(
    fc.tuple(valued, value).map(([f, v]) => [f, v]),
    fc
      .tuple(
        valued.filter((f) => f.startsWith('--')),
        value,
      )
      .map(([f, v]) => [`${f}=${v}`]),
    bare.map((f) => [f]),
    text.map((s) => [s]),
  );
  const verb = fc.constantFrom('define', 'undefine', 'modify', 'start', 'stop', 'list', 'types', 'start-parent-mdevs', 'help', 'bogus');
  const chaos = fc.tuple(fc.option(verb, { nil: undefined }), fc.array(option, { maxLength: 6 })).map(([v, opts]) => [...(v ? [v] : []), ...opts.flat()]);
  // well-formed commands: a verb with options it knows, so that most runs reach the operation
  const VERB_OPTIONS: Record<string, string[]> = {
    define: ['-u', '-p', '-t', '--jsonfile', '-a', '-f'],
    undefine: ['-u', '-p', '-f'],
    modify: ['-u', '-p', '-t', '--addattr', '--value', '--delattr', '-i', '-a', '-m', '-l', '-d', '--jsonfile', '-f'],
    start: ['-u', '-p', '-t', '--jsonfile', '-f'],
    stop: ['-u', '-f'],
    list: ['-d', '--dumpjson', '-v', '-u', '-p'],
    types: ['-p', '--dumpjson'],
  };
  const V = '11111111-2222-4333-8444-555555555555';
  const plausible: Record<string, fc.Arbitrary<string>> = {
    '-u': fc.constantFrom(U, V, '59e8b599-afdd-4766-a59e-415ef4f5a492', `{${U.toUpperCase()}}`),
    '-p': fc.constantFrom(P, '0000:00:09.0', P.toUpperCase()),
    '-t': fc.constantFrom(TYPE, 'other_type'),
    '--jsonfile': fc.constantFrom(good, '/dev/stdin', notJson, t.p('missing.json')),
    '--addattr': fc.constantFrom('name', 'x', '../x'),
    '--value': fc.constantFrom('v', '1', ''),
    '-i': fc.constantFrom('0', '1', '5'),
  };
  const valueFor = (o: string) => fc.oneof({ weight: 5, arbitrary: plausible[o] }, { weight: 1, arbitrary: value });
  const wellFormed = fc.oneof(
    ...Object.entries(VERB_OPTIONS).map(([v, opts]) =>
      fc
        .uniqueArray(fc.constantFrom(...opts), { maxLength: 5 })
        .chain((chosen) => fc.tuple(...chosen.map((o) => (o in plausible ? valueFor(o).map((x) => [o, x]) : fc.constant([o])))))
        .map((pairs) => [v, ...pairs.flat()]),
    ),
    valueFor('-p').map((p) => ['start-parent-mdevs', p]),
  );
  const lsmdevArgs = fc
    .uniqueArray(fc.constantFrom(...VERB_OPTIONS.list), { maxLength: 4 })
    .chain((chosen) => fc.tuple(...chosen.map((o) => (o in plausible ? valueFor(o).map((x) => [o, x]) : fc.constant([o])))))
    .map((pairs) => pairs.flat());
  const command = fc.oneof(
    { weight: 6, arbitrary: wellFormed.map((args) => ({ bin: 'mdevctl' as const, args })) },
    { weight: 2, arbitrary: chaos.map((args) => ({ bin: 'mdevctl' as const, args })) },
    { weight: 1, arbitrary: lsmdevArgs.map((args) => ({ bin: 'lsmdev' as const, args })) },
  );
  const stdin = fc.oneof(fc.constant(''), fc.json(), fc.constant(JSON.stringify({ mdev_type: TYPE, start: 'auto' })), text);

  /** Every definition file of the tree still parses (no command leaves a broken one). */
  function storeIntact(): void {
    const base = t.p('etc/mdevctl.d');
    for (const parent of fs.readdirSync(base)) {
      const dir = path.join(base, parent);
      if (!fs.statSync(dir).isDirectory()) continue;
      for (const name of fs.readdirSync(dir)) {
        if (parseUuid(name) === null) continue;
        parseConfigText(fs.readFileSync(path.join(dir, name), 'utf8'), path.join(dir, name));
      }
    }
  }

  const RUNS = 150;
  // each run is a process of its own (20 s at most each); 150 take about 20 s on an idle 2-core
  // machine and several times that on a loaded one: the test's own bound, not jest's default
  const BOUND_MS = 15 * 60_000;
  test(
    'any arguments: exit 0, a one-line Error (exit 1) or a usage error (exit 2); never a stack trace',
    () => {
      const seed = testSeed('property.test.ts (the command line, as a process)');
      fc.assert(
        fc.property(command, stdin, ({ bin, args }, input) => {
          freshTree();
          const r = run(args, { root: t.root, input, bin, timeoutMs: 20000 });
          const where = `args ${JSON.stringify(args)}\nstdout ${JSON.stringify(r.stdout)}\nstderr ${JSON.stringify(r.stderr)}`;
          expect([0, 1, 2]).toContain(r.status);
          expect({ where, stack: /^\s+at /m.test(r.stderr) }).toEqual({ where, stack: false });
          expect({ where, internal: /TypeError|RangeError|ReferenceError|SyntaxError|node:internal/.test(r.stderr) }).toEqual({ where, internal: false });
          if (r.status === 1) {
            expect({ where, stdout: r.stdout }).toEqual({ where, stdout: '' });
            // warnings, then the Error line (an invalid index adds the attribute list after it)
            const lines = r.stderr.replace(/\n$/, '').split('\n');
            const at = lines.findIndex((l) => l.startsWith('Error: '));
            expect({ where, found: at >= 0 }).toEqual({ where, found: true });
            for (const l of lines.slice(0, at)) expect({ where, l, ok: l.startsWith('Warning: ') }).toEqual({ where, l, ok: true });
            for (const l of lines.slice(at + 1)) expect({ where, l, ok: /^( {2}| {4}@|Device )/.test(l) }).toEqual({ where, l, ok: true });
          }
          if (r.status === 2) expect({ where, ok: /^(error: |Usage: |A mediated device)/.test(r.stderr) || r.stdout !== '' }).toEqual({ where, ok: true });
          expect(r.stderr).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f]/);
          storeIntact();
        }),
        { numRuns: RUNS, seed },
      );
    },
    BOUND_MS,
  );
});
