// Calls the native reader's exports (native/fastio.c) directly and prints, as JSON, what they
// return: for test/native-reader.test.ts, which runs it plainly and under valgrind.
//   node fastio-probe.cjs ADDON DIR ROUNDS
// DIR is prepared by the test (see there). Texts longer than 64 characters are given as their
// length; errors thrown as "ErrorClass: message".
'use strict';
const [addon, dir, rounds] = process.argv.slice(2);
const m = { exports: {} };
process.dlopen(m, addon);
const io = m.exports;

const short = (r) => (typeof r === 'string' && r.length > 64 ? `length ${r.length}` : r);
const names = ['text', 'empty', 'sub', 'fifo', 'missing', 'link', 'dangling', 'sub/inner', 'text/x', 'big', 'exact16k', 'huge', 'unicode name \u00e9'];
const zeros = Uint32Array.from(names, () => 0);

function once() {
  return {
    files: io.readFilesAt([dir], zeros, names, 0, false).map(short),
    regular: io.readFilesAt([dir], zeros, names, 0, true).map(short),
    links: io.readLinksAt([dir], zeros, names, 0),
    access: io.accessAt([dir], zeros, names, 0),
    // a missing directory, a file taken for one, the same directory again after another
    dirs: io.readFilesAt([`${dir}/nope`, `${dir}/text`, dir], Uint32Array.from([0, 1, 2, 0, 2]), ['a', 'b', 'text', 'c', 'empty'], 0, false),
    none: [io.readFilesAt([], new Uint32Array(0), [], 0, false), io.readLinksAt([dir], new Uint32Array(0), [], 8), io.accessAt([], new Uint32Array(0), [], 1)],
  };
}

/** MANY: DIR/many/D/K holds `D/K`, for K < PER, and DIR/many/D/lK -> K (D < 3); every third name missing. */
function many(threads) {
  const per = 1700;
  const dirs = [0, 1, 2].map((d) => `${dir}/many/${d}`);
  const dirOf = [];
  const files = [];
  const links = [];
  for (let d = 0; d < 3; d++) {
    for (let k = 0; k < per; k++) {
      dirOf.push(d);
      files.push(k % 3 === 2 ? `gone${k}` : `${k}`);
      links.push(k % 3 === 2 ? `gone${k}` : `l${k}`);
    }
  }
  const of = Uint32Array.from(dirOf);
  const f = io.readFilesAt(dirs, of, files, threads, threads % 2 === 1);
  const l = io.readLinksAt(dirs, of, links, threads);
  const a = io.accessAt(dirs, of, links, threads);
  let wrong = 0;
  for (let i = 0; i < files.length; i++) {
    const d = dirOf[i];
    const k = i - d * per;
    const there = k % 3 !== 2;
    if (f[i] !== (there ? `${d}/${k}` : 2)) wrong++;
    if (l[i] !== (there ? `${k}` : 2)) wrong++;
    if (a[i] !== (there ? 0 : 2)) wrong++;
  }
  return { names: files.length, wrong };
}

const BAD_CALLS = [
  [],
  [[dir], new Uint32Array(1), ['text']],
  [dir, new Uint32Array(1), ['text'], 0],
  [[dir], [0], ['text'], 0],
  [[dir], new Int32Array(1), ['text'], 0],
  [[dir], new Uint32Array([1]), ['text'], 0],
  [[dir], new Uint32Array(2), ['text'], 0],
  [[dir], new Uint32Array(1), [7], 0],
  [[7], new Uint32Array(1), ['text'], 0],
  [[dir], new Uint32Array(1), ['text'], 'x'],
  [[dir], new Uint32Array(2), ['text', { toString: () => 'text' }], 0],
];

/** listDirs' answer for DIRS, entries as `name type` in byte order (the kernel's order varies). */
function listed(dirs, threads) {
  return io.listDirs(dirs, threads).map((r) => {
    if (typeof r === 'number') return r;
    if (r.names.length !== r.types.length) return 'names and types differ in length';
    const entries = r.names.map((n, i) => `${n} ${r.types[i]}`).sort();
    return entries.length > 20 ? `${entries.length} entries, ${entries.filter((e) => e.endsWith(' 10')).length} links` : entries;
  });
}

const out = { rounds: [], badCalls: [] };
for (let r = 0; r < Number(rounds || 1); r++) out.rounds.push(once());
out.many = [0, 1, 2, 3, 8, 100].map(many);
const dirs = [dir, `${dir}/nope`, `${dir}/text`, `${dir}/sub`, `${dir}/many/0`, `${dir}/many/1`, `${dir}/many/2`];
out.listDirs = [0, 1, 2, 8].map((threads) => listed(dirs, threads));
out.listDirs.push(listed([], 0));
for (const args of [[], [[dir]], [dir, 0], [[7], 0], [[dir], 'x']]) {
  try {
    io.listDirs(...args);
    out.badCalls.push('listDirs: no error');
  } catch (e) {
    out.badCalls.push(`listDirs: ${e.constructor.name}: ${e.message}`);
  }
}
for (const fn of ['readFilesAt', 'readLinksAt', 'accessAt']) {
  for (const args of BAD_CALLS) {
    try {
      io[fn](...args);
      out.badCalls.push(`${fn}: no error`);
    } catch (e) {
      out.badCalls.push(`${fn}: ${e.constructor.name}: ${e.message}`);
    }
  }
}
process.stdout.write(JSON.stringify(out));
