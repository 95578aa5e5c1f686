// Loaded with `node --import` by run-tests.mjs into each test file's process: when the process
// exits it writes the CPU time it used (and, on Linux, that of the child processes it waited for)
// to the file named in WHARF_TEST_USAGE_FILE, so the runner can print a per-file table.
import { readFileSync, writeFileSync } from 'node:fs';

const target = process.env.WHARF_TEST_USAGE_FILE;
delete process.env.WHARF_TEST_USAGE_FILE; // processes the test starts report nothing

/** CPU seconds of the children this process reaped (utime + stime of /proc/self/stat), or 0. */
function reapedChildrenSeconds() {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[13]) + Number(fields[14])) / 100; // cutime, cstime in clock ticks (USER_HZ = 100)
  } catch {
    return 0;
  }
}

if (target) {
  process.on('exit', () => {
    const u = process.resourceUsage();
    const cpu = (u.userCPUTime + u.systemCPUTime) / 1e6 + reapedChildrenSeconds();
    writeFileSync(target, JSON.stringify({ cpu, maxRssKiB: u.maxRSS }));
  });
}
