// Captures the real sysfs layout of one mdev sample parent with one running device: every entry
// under the parent's device directory (type, mode, link target, contents), the links that point
// at it from the class, bus and IOMMU group directories, as paths relative to /sys. Written by
// the scenario suite to RESULTS/layout-PARENT.json; test/kernel-layout.test.ts holds the fixtures
// to the committed copies in kernel-tests/layouts/.
import fs from 'node:fs';
import path from 'node:path';

const SYS = '/sys';
// Power management and the uevent file are the driver core's, not mdev's: listed, not descended.
const NOT_DESCENDED = new Set(['power']);

function entry(abs) {
  const st = fs.lstatSync(abs);
  const mode = (st.mode & 0o7777).toString(8).padStart(4, '0');
  if (st.isSymbolicLink()) return { kind: 'link', target: fs.readlinkSync(abs) };
  if (st.isDirectory()) return { kind: 'dir', mode };
  let content;
  try {
    content = fs.readFileSync(abs, 'utf8');
  } catch (e) {
    content = { error: e.code };
  }
  return { kind: 'file', mode, content };
}

function walk(rel, out) {
  const abs = path.join(SYS, rel);
  out[rel] = entry(abs);
  if (out[rel].kind !== 'dir' || NOT_DESCENDED.has(path.basename(rel))) return;
  for (const name of fs.readdirSync(abs).sort()) walk(path.join(rel, name), out);
}

/** The layout of PARENT (a sample driver, parent at devices/virtual/P/P) running device UUID. */
export function capture(parent, uuid) {
  const out = {};
  const parentRel = `devices/virtual/${parent}/${parent}`;
  walk(parentRel, out);
  const devRel = `${parentRel}/${uuid}`;
  const extra = [`class/mdev_bus/${parent}`, `class/${parent}/${parent}`, `bus/mdev/devices/${uuid}`];
  const driver = out[`${devRel}/driver`];
  if (driver && driver.kind === 'link') extra.push(`bus/mdev/drivers/${path.basename(driver.target)}/${uuid}`);
  const group = out[`${devRel}/iommu_group`];
  if (group && group.kind === 'link') {
    extra.push(path.join(path.dirname(devRel), group.target.replace(/^(\.\.\/)+/, ''), 'devices', uuid).replace(/^.*?kernel\//, 'kernel/'));
  }
  for (const rel of extra) {
    if (fs.existsSync(path.join(SYS, rel)) || isLink(path.join(SYS, rel))) out[rel] = entry(path.join(SYS, rel));
    else out[rel] = { kind: 'absent' };
  }
  return out;
}

function isLink(p) {
  try {
    return fs.lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}
