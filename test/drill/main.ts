// `npm run drill -- cutover [--report <file.html>] [--admins N]`: the session store cutover drill
// (docs/session-cutover.md, "The drill"). Progress on stderr; the last line of stdout is one JSON
// object. Exit 0 only when it meets the runbook's bar: nobody logged out, no logout undone, the
// gate refused the skips, every panel had data, the fault's alert fired and cleared.
import { parseArgs } from 'node:util';
import { cleanRunDir, RUN_DIR_ENV } from '../infra/state.js';
import { failures } from './acceptance.js';
import { drill } from './run.js';

const USAGE =
  'Usage: npm run drill -- cutover [--report <file.html> (default cutover-drill.html)] [--admins N (2-50, default 6)]';
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    report: { type: 'string', default: 'cutover-drill.html' },
    admins: { type: 'string', default: '6' },
    help: { type: 'boolean' },
  },
});
const admins = Number(values.admins);
if (values.help || positionals[0] !== 'cutover' || !(Number.isInteger(admins) && admins >= 2 && admins <= 50)) {
  console.error(values.help ? USAGE : `Name the drill (cutover) and a whole number of admins from 2 to 50.\n${USAGE}`);
  process.exit(values.help ? 0 : 2);
}
const cleanUp = () => (process.env[RUN_DIR_ENV] ? cleanRunDir(process.env[RUN_DIR_ENV]) : Promise.resolve());
try {
  const summary = await drill({ reportFile: values.report, admins });
  const failed = failures(summary);
  for (const failure of failed) console.error(`[drill] FAILED: ${failure}`);
  console.log(JSON.stringify(summary));
  await cleanUp();
  process.exit(failed.length > 0 ? 1 : 0);
} catch (error) {
  console.error(`[drill] could not run: ${error instanceof Error ? error.stack : String(error)}`);
  await cleanUp();
  process.exit(1);
}
