// Preloaded into CLI children by the hostile-target tests: on exit, writes
// the process's peak RSS (KiB, process.resourceUsage().maxRSS) to $WIRECHECK_RSS_FILE.
import { writeFileSync } from 'node:fs';
process.on('exit', () => {
  if (process.env.WIRECHECK_RSS_FILE) writeFileSync(process.env.WIRECHECK_RSS_FILE, String(process.resourceUsage().maxRSS));
});
