import { EXIT } from '../errors.js';
import { packageVersion } from '../version.js';
import type { RegisterCommand } from './types.js';

/** `retrace version`: the same as `retrace --version`, for people (and scripts) that type it as a command. */
export const registerVersion: RegisterCommand = (program, bind) => {
  program
    .command('version')
    .description('print the version (same as --version)')
    .action(
      bind(async (ctx) => {
        if (ctx.json) await ctx.out.line(JSON.stringify({ version: packageVersion() }));
        else await ctx.out.line(packageVersion());
        return EXIT.ok;
      }),
    );
};
