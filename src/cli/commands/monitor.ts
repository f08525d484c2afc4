import { Command } from 'commander';
import { Env, opt } from '../program';
import { UsageError } from '../../lib/util/errors';
import { createContext } from '../../lib/ops/context';
import { eventText, onceLog, startMonitor } from '../../lib/ops/monitor';
import { exit, stayAfterMain } from '../exit';

interface MonitorFlags {
  dumpjson?: boolean;
  interval?: string;
}

function intervalArg(value: string | undefined): number {
  if (value === undefined) return 1000;
  const s = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !(s >= 0.05 && s <= 3600)) {
    throw new UsageError(`invalid value '${value}' for '--interval <SECONDS>': a number of seconds from 0.05 to 3600`);
  }
  return Math.round(s * 1000);
}

export function register(program: Command, env: Env): void {
  program
    .command('monitor')
    .summary('Print a line for each change to mediated devices')
    .description(
      `Watch the definitions, the running devices and the parent devices, and print one line for each change until interrupted (Ctrl-C; exit status 0):\n\n  parent-added PARENT\n  parent-removed PARENT\n  started UUID PARENT TYPE\n  stopped UUID PARENT TYPE\n  defined UUID PARENT TYPE auto|manual\n  modified UUID PARENT TYPE auto|manual\n  undefined UUID PARENT\n\nWith --dumpjson each line is a JSON object instead ({"event":...,"uuid":...,"parent":...}; definitions carry "config"). sysfs sends no file notifications, so it is read again every --interval seconds; changes to the definitions are seen at once.`,
    )
    .addOption(opt.dumpjson('Print each change as one line of JSON'))
    .option('--interval <SECONDS>', 'Seconds between two scans of sysfs (default 1)')
    .action((flags: MonitorFlags) => {
      const interval = intervalArg(flags.interval);
      const base = env.context();
      const ctx = createContext({ root: base.root, log: onceLog(base.log) });
      const style = flags.dumpjson ? undefined : env.output.style();
      const mon = startMonitor(ctx, {
        interval,
        onEvent(e) {
          if (flags.dumpjson) env.output.line(JSON.stringify(e));
          else {
            const text = eventText(e);
            const sp = text.indexOf(' ');
            env.output.line(style ? `${style.state(text.slice(0, sp))}${text.slice(sp)}` : text);
          }
        },
      });
      const stop = () => {
        mon.close();
        exit(0);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      stayAfterMain();
      ctx.log.info(`Watching ${ctx.root.dir} for changes; press Ctrl-C to stop`);
    });
}
