// The sysfs layout of an mdev sample parent with one running device, as data: captured from the
// real /sys inside the guest (kernel-tests/guest/scenarios.mjs writes RESULTS/layout-PARENT.json,
// committed as kernel-tests/layouts/SERIES/PARENT.json) and from fixture trees the same way
// (test/kernel-layout.test.ts), so the two can be compared entry by entry.
//
// A layout maps paths relative to the sys directory to {kind: 'dir', mode} | {kind: 'file', mode,
// content} | {kind: 'link', target} | {kind: 'absent'}. content is the text read, or {error: CODE}
// when reading fails (the kernel refuses to read write-only files, even to root).
'use strict';
const fs = require('node:fs');
const path = require('node:path');

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

function walk(sys, rel, out) {
  const abs = path.join(sys, rel);
  out[rel] = entry(abs);
  // power management is the driver core's, not mdev's: listed, not descended
  if (out[rel].kind !== 'dir' || path.basename(rel) === 'power') return;
  for (const name of fs.readdirSync(abs).sort()) walk(sys, path.join(rel, name), out);
}

function lexists(p) {
  try {
    fs.lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

/** Layout of PARENT (at SYS/devices/virtual/PARENT/PARENT, as the samples are) running UUID. */
function capture(sys, parent, uuid) {
  const out = {};
  const parentRel = `devices/virtual/${parent}/${parent}`;
  walk(sys, parentRel, out);
  const devRel = `${parentRel}/${uuid}`;
  const extra = [`class/mdev_bus/${parent}`, `class/${parent}/${parent}`, `bus/mdev/devices/${uuid}`];
  const driver = out[`${devRel}/driver`];
  if (driver && driver.kind === 'link') extra.push(`bus/mdev/drivers/${path.basename(driver.target)}/${uuid}`);
  const group = out[`${devRel}/iommu_group`];
  if (group && group.kind === 'link') extra.push(`kernel/iommu_groups/${path.basename(group.target)}/devices/${uuid}`);
  for (const rel of extra) out[rel] = lexists(path.join(sys, rel)) ? entry(path.join(sys, rel)) : { kind: 'absent' };
  return out;
}

/**
 * What mdevctl and our fixtures model, in a form two captures can be compared in: the device's
 * UUID becomes UUID and its IOMMU group number N; dropped are what the driver core and VFIO add
 * and mdevctl never reads (power/, uevent, the device's vfio-dev/), and the content of write-only
 * files (the kernel refuses to read them; a fixture's are empty).
 */
function normalise(layout, uuid) {
  const out = {};
  const sub = (s) =>
    s
      .split(uuid)
      .join('UUID')
      .replace(/iommu_groups\/\d+/g, 'iommu_groups/N');
  for (const [rel, e] of Object.entries(layout)) {
    const parts = rel.split('/');
    if (parts.includes('power') || parts[parts.length - 1] === 'uevent' || parts.includes('vfio-dev')) continue;
    const n = { ...e };
    if (n.kind === 'link') n.target = sub(n.target);
    if (n.kind === 'file' && n.mode === '0200') delete n.content;
    if (n.kind === 'file' && typeof n.content === 'string') n.content = sub(n.content);
    out[sub(rel)] = n;
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

module.exports = { capture, normalise };
