/** A systemd unit file as data, for the tests of the units in systemd/. */

/** Section -> key -> values (repeated keys and space-separated After/Before/Wants lists joined). */
export function parseUnit(text: string): Record<string, Record<string, string[]>> {
  const out: Record<string, Record<string, string[]>> = {};
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const s = /^\[(\w+)\]$/.exec(line);
    if (s) {
      section = s[1];
      out[section] = {};
      continue;
    }
    const eq = line.indexOf('=');
    const key = line.slice(0, eq);
    const value = line.slice(eq + 1);
    const list = ['After', 'Before', 'Wants'].includes(key) ? value.split(/\s+/) : [value];
    (out[section][key] ??= []).push(...list);
  }
  return out;
}
