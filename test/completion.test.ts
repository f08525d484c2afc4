/**
 * Shell completion: the script printed by `mdevctl completion bash|zsh`, loaded into the real
 * shell, offers verbs, options and the UUIDs/parents/types of a fixture root.
 * bash: the function registered with `complete -F` is called the way readline calls it.
 * zsh: the real completion system runs in a pseudo-terminal (test/support/zsh-complete.zsh).
 */
import { prerequisites } from './support/prerequisites';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cliEnv, pathWithNode, REPO, run } from './support/cli';
import { freshFixture, removeFixture } from './support/fixture';

const BIN = path.join(REPO, 'bin');
const GVT_ACTIVE = ['0116002c-a9df-4bf9-8c59-7f190449e1a6', 'c27d00a2-be6c-4b8d-9178-e1cf1064a2f1'];
const GVT_DEFINED = ['270dd1d1-08c0-45bf-8154-f5646e2cb0dd', '6c446e93-4bc4-4e54-90ac-c443c90d9b65', 'c27d00a2-be6c-4b8d-9178-e1cf1064a2f1'];
const CCW_ACTIVE = '318ee8dd-c4ae-456b-8831-66fa1227c3df';
const CCW_DEFINED = ['318ee8dd-c4ae-456b-8831-66fa1227c3df', '3a0f4deb-fc2c-4607-88dc-62ffddc3588c'];
const GVT_TYPES = ['i915-GVTg_V5_1', 'i915-GVTg_V5_2', 'i915-GVTg_V5_4', 'i915-GVTg_V5_8'];

/** The flags `mdevctl VERB --help` lists, in its order (verb help does not list -V/--version). */
function helpFlags(verb: string): string[] {
  const help = run([verb, '--help']).stdout;
  const opts = help.slice(help.indexOf('Options:'));
  return [...opts.matchAll(/^ {2}(-\w, )?(--[a-z-]+)/gm)].flatMap((m) => (m[1] ? [m[1].slice(0, 2), m[2]] : [m[2]]));
}

function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...cliEnv(), PATH: `${BIN}:${pathWithNode()}`, ...extra };
  if (extra.MDEVCTL_ENV_ROOT === undefined) delete e.MDEVCTL_ENV_ROOT;
  return e;
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mdevctl-completion-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function script(shell: 'bash' | 'zsh'): string {
  const r = run(['completion', shell]);
  expect(r.status).toBe(0);
  expect(r.stderr).toBe('');
  const file = path.join(tmp, `mdevctl.${shell}`);
  fs.writeFileSync(file, r.stdout);
  return file;
}

describe('bash', () => {
  const root = freshFixture('gvt');
  afterAll(() => removeFixture(root));
  let file: string;
  beforeAll(() => {
    file = script('bash');
  });

  /** Candidates bash would offer for LINE (cursor at its end), one per array entry. */
  function complete(line: string, extraEnv: NodeJS.ProcessEnv = {}): string[] {
    const prog = `
      source "$1"
      COMP_LINE=$2; COMP_POINT=\${#COMP_LINE}
      read -ra COMP_WORDS <<< "$COMP_LINE"; [[ $COMP_LINE == *' ' ]] && COMP_WORDS+=('')
      COMP_CWORD=$(( \${#COMP_WORDS[@]} - 1 ))
      spec=$(complete -p "\${COMP_WORDS[0]##*/}") || exit 3
      fn=\${spec##*-F }; fn=\${fn%% *}
      "$fn" "\${COMP_WORDS[0]}" "\${COMP_WORDS[COMP_CWORD]}" "\${COMP_WORDS[COMP_CWORD-1]}"
      printf '%s\\n' "\${COMPREPLY[@]}"`;
    const r = spawnSync('bash', ['--norc', '--noprofile', '-c', prog, 'bash', file, line], { env: env(extraEnv), encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    return r.stdout.split('\n').filter((l) => l !== '');
  }

  test('the script registers one function for mdevctl and lsmdev', () => {
    const r = spawnSync('bash', ['--norc', '-c', 'source "$1"; complete -p mdevctl lsmdev', 'bash', file], { encoding: 'utf8' });
    expect(r.stdout).toBe('complete -F _mdevctl mdevctl\ncomplete -F _mdevctl lsmdev\n');
  });

  test('mdevctl st -> start stop start-all status', () => {
    expect(complete('mdevctl st')).toEqual(['start', 'stop', 'start-all', 'status']);
  });

  test('mdevctl start-all -- -> its options', () => {
    expect(complete('mdevctl start-all --')).toEqual(['--wait', '--dumpjson', '--help']);
  });

  test('every verb --help lists, and no hidden one', () => {
    const listed = [...run(['--help']).stdout.matchAll(/^ {2}([a-z][a-z-]*) /gm)].map((m) => m[1]);
    expect(listed).toEqual(expect.arrayContaining(['define', 'start', 'stop', 'monitor', 'completion', 'help']));
    expect(complete('mdevctl ')).toEqual(listed);
    expect(listed).not.toContain('start-parent-mdevs');
  });

  test('mdevctl stop -u  -> the active UUIDs of the root (MDEVCTL_ENV_ROOT, --root, --root=)', () => {
    expect(complete('mdevctl stop -u ', { MDEVCTL_ENV_ROOT: root })).toEqual(GVT_ACTIVE);
    expect(complete(`mdevctl --root ${root} stop -u `)).toEqual(GVT_ACTIVE);
    expect(complete(`mdevctl --root=${root} stop --uuid `)).toEqual(GVT_ACTIVE);
    expect(complete(`mdevctl --root ${root} stop --uuid=`)).toEqual(GVT_ACTIVE);
    expect(complete(`mdevctl --root ${root} stop -u c2`)).toEqual([GVT_ACTIVE[1]]);
  });

  test('start/undefine complete defined UUIDs; list both', () => {
    expect(complete(`mdevctl --root ${root} start -u `)).toEqual(GVT_DEFINED);
    expect(complete(`mdevctl --root ${root} undefine --uuid `)).toEqual(GVT_DEFINED);
    expect(complete(`mdevctl --root ${root} list -u `)).toEqual([...new Set([...GVT_ACTIVE, ...GVT_DEFINED])].sort());
  });

  test('parents, with the part before a colon left to bash', () => {
    expect(complete(`mdevctl --root ${root} define -p `)).toEqual(['0000:00:02.0']);
    // bash splits "0000:00:0" at the colons; the reply completes the last piece
    expect(complete(`mdevctl --root ${root} define -p 0000:00:0`)).toEqual(['02.0']);
    expect(complete(`mdevctl --root ${root} types --parent=0000:`)).toEqual(['00:02.0']);
  });

  test('types of the parent given on the line', () => {
    expect(complete(`mdevctl --root ${root} start -p 0000:00:02.0 -t `)).toEqual(GVT_TYPES);
    expect(complete(`mdevctl --root ${root} define -t i915-GVTg_V5_`)).toEqual(GVT_TYPES);
  });

  test('options of a verb, files for --jsonfile, shells for completion', () => {
    expect(helpFlags('stop')).toEqual(expect.arrayContaining(['-u', '--uuid', '-f', '--force', '-h', '--help']));
    expect(complete('mdevctl stop -')).toEqual(helpFlags('stop'));
    expect(complete('mdevctl list --d')).toEqual(['--defined', '--dumpjson']);
    expect(complete('mdevctl --r')).toEqual(['--root']);
    expect(complete('mdevctl completion ')).toEqual(['bash', 'zsh']);
    expect(complete('mdevctl completion bash ')).toEqual(helpFlags('completion'));
    expect(complete('mdevctl fixture vfio_')).toEqual(['vfio_ap', 'vfio_ccw']);
    expect(complete('mdevctl vgpu ')).toEqual(['types', 'list', 'define', 'undefine', 'modify', 'start', 'stop', 'start-all']);
    expect(complete('mdevctl vgpu st')).toEqual(['start', 'stop', 'start-all']);
    fs.mkdirSync(path.join(tmp, 'roots'), { recursive: true });
    expect(complete(`mdevctl fixture gvt ${tmp}/ro`)).toEqual([`${tmp}/roots`]);
    fs.writeFileSync(path.join(tmp, 'dev.json'), '{}');
    expect(complete(`mdevctl define -p x --jsonfile ${tmp}/dev.j`)).toEqual([`${tmp}/dev.json`]);
  });

  test('lsmdev completes like list', () => {
    expect(complete(`lsmdev --root ${root} -u `)).toEqual([...new Set([...GVT_ACTIVE, ...GVT_DEFINED])].sort());
    expect(complete('lsmdev --dump')).toEqual(['--dumpjson']);
  });

  test('a root with nothing offers nothing, and says nothing', () => {
    expect(complete(`mdevctl --root ${tmp}/nowhere stop -u `)).toEqual([]);
  });
});

test('__complete: one word per line, exit 0, nothing on stderr even for an unknown kind', () => {
  const root = freshFixture('nvidia');
  try {
    expect(run(['__complete', 'parents'], { root })).toEqual({ status: 0, stdout: '0000:02:00.0\n0000:84:00.0\n', stderr: '' });
    const types = run(['__complete', 'types', '0000:84:00.0'], { root });
    expect(types.stdout.split('\n')).toContain('nvidia-222');
    expect(run(['__complete', 'bogus'], { root })).toEqual({ status: 0, stdout: '', stderr: '' });
    expect(run(['--help'], { root }).stdout).not.toContain('__complete');
  } finally {
    removeFixture(root);
  }
});

test('completion with an unknown shell is a usage error', () => {
  const r = run(['completion', 'fish']);
  expect(r.status).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr.split('\n')[0]).toBe("error: invalid value 'fish' for '<SHELL>': expected bash or zsh");
});

describe('zsh', () => {
  const root = freshFixture('vfio_ccw');
  afterAll(() => removeFixture(root));
  // .ci/run installs zsh; without it the script's text is checked and the rest skipped, in one line
  const noZsh = prerequisites('completion.test.ts (its zsh part)', { tools: ['zsh'] }, 'apt-get install zsh');
  const withZsh = noZsh ? test.skip : test;
  let file: string;
  beforeAll(() => {
    file = script('zsh');
  });

  test('the script declares both commands and asks mdevctl for the values', () => {
    const text = fs.readFileSync(file, 'utf8');
    expect(text.split('\n')[0]).toBe('#compdef mdevctl lsmdev');
    expect(text).toContain('compdef _mdevctl mdevctl lsmdev');
    expect(text).toContain('_mdevctl_values active');
  });

  withZsh('the script is valid zsh', () => {
    const r = spawnSync('zsh', ['-n', file], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  function complete(line: string): string[] {
    const r = spawnSync('zsh', ['-f', path.join(REPO, 'test/support/zsh-complete.zsh'), file, line], {
      env: env(),
      encoding: 'utf8',
      timeout: 20000,
    });
    expect(r.status).toBe(0);
    return r.stdout.split('\n').filter((l) => l !== '');
  }

  withZsh('zsh offers verbs, options, UUIDs, parents and types', () => {
    expect(complete('mdevctl st')).toEqual(['start', 'start-all', 'status', 'stop']);
    expect(complete(`mdevctl --root ${root} stop -u `)).toEqual([CCW_ACTIVE]);
    expect(complete(`mdevctl --root=${root} undefine -u `)).toEqual(CCW_DEFINED);
    expect(complete(`mdevctl --root ${root} start -p `)).toEqual(['0.0.0052', '0.0.0313', '0.0.26ab']);
    expect(complete(`mdevctl --root ${root} start -p 0.0.0313 -t `)).toEqual(['vfio_ccw-io']);
    expect(complete(`lsmdev --root ${root} --uuid `)).toEqual(CCW_DEFINED);
    expect(complete('mdevctl completion ')).toEqual(['bash', 'zsh']);
    expect(complete('mdevctl fixture vfio_')).toEqual(['vfio_ap', 'vfio_ccw']);
    expect(complete('mdevctl stop --')).toEqual(
      helpFlags('stop')
        .filter((f) => f.startsWith('--'))
        .sort(),
    );
  });
});
