/**
 * The HTML report in a real browser: the Proton suite runs (through the CLI)
 * against the QUIC reference server with a deliberate fault, the report is
 * opened in headless Chromium (Debian's `chromium`, driven by puppeteer-core;
 * no browser download), and the test checks that it needs no network, that
 * the failing case's sequence diagram renders with the violating event
 * highlighted and the model's expectation beside it, and that the filters
 * work. A screenshot goes to `reports/html-report.png`.
 *
 * Without a Chromium on the machine the test is skipped, saying so.
 */
import t from 'tap';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { main } from '../../harness/cli.js';
import { startProtonServer } from '../../reference-server/proton/index.js';
import { fastProfile } from '../../suites/proton/profile.js';

/** The system Chromium: `CHROME_PATH` / `PUPPETEER_EXECUTABLE_PATH`, else Debian's and the usual names. */
function findChromium(): string | undefined {
  const env = process.env['CHROME_PATH'] ?? process.env['PUPPETEER_EXECUTABLE_PATH'];
  if (env !== undefined && env !== '') return existsSync(env) ? env : undefined;
  return ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable'].find((p) => existsSync(p));
}

const chromium = findChromium();
const screenshot = fileURLToPath(new URL('../../reports/html-report.png', import.meta.url));

t.test(
  'HTML report of a failing run in headless Chromium',
  chromium === undefined
    ? { skip: 'no Chromium found (looked for $CHROME_PATH, /usr/bin/chromium, chromium-browser, google-chrome): install Debian\u2019s `chromium` (apt-get install chromium) to run this test' }
    : {},
  async (t) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'wirecheck-html-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));

    // A real run: the suite's event cases against a server that acknowledges id + 1 (PROTON-4.3).
    const server = await startProtonServer({ profile: fastProfile, fault: 'wrong-ack-id' });
    let code: number;
    let err = '';
    try {
      code = await main(
        ['run', '--target', `quic://127.0.0.1:${server.port}`, '--protocol', 'proton', '--insecure', '--fast', '--no-fixtures',
          '--cases', 'proton/event/single,proton/event/pipelined,proton/event/repeated-id', '--reporter', 'html', '--out', dir, '-q', '--no-color'],
        { out: () => undefined, err: (s) => void (err += s) },
      );
    } finally {
      await server.stop();
    }
    t.equal(code, 1, `the faulty server fails (stderr: ${err})`);
    const report = path.join(dir, 'proton.html');
    t.ok(existsSync(report), 'reports/proton.html written');

    const { default: puppeteer } = await import('puppeteer-core');
    // Chromium took over 30 s (puppeteer's default launch timeout) to start on a loaded 2-core machine.
    const browser = await puppeteer.launch({ executablePath: chromium!, headless: true, timeout: 120_000, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
    t.teardown(() => browser.close());
    const page = await browser.newPage();
    await page.setViewport({ width: 1400, height: 1000 });
    const requests: string[] = [];
    page.on('request', (r) => void requests.push(r.url()));
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => void pageErrors.push(String(e)));
    await page.goto(pathToFileURL(report).href, { waitUntil: 'load' });

    t.same(requests.filter((u) => !u.startsWith('file:') && !u.startsWith('data:')), [], 'no network request: the page is self-contained');
    t.same(pageErrors, [], 'no script error');

    // Page-side checks are passed as strings: tsx would add helpers to a serialized function.
    const failing = (await page.evaluate(`(() => {
      const c = document.querySelector('details.case[data-verdict="fail"]');
      if (!c) return null;
      const svg = c.querySelector('svg.seq');
      const box = svg ? svg.getBoundingClientRect() : null;
      const hit = c.querySelector('svg.seq .violating');
      const shaft = hit ? hit.querySelector('.shaft') : null;
      const hb = hit ? hit.getBoundingClientRect() : null;
      const callout = c.querySelector('svg.seq .expectation');
      return {
        id: c.id,
        open: c.open,
        svg: box ? { w: box.width, h: box.height } : null,
        arrows: c.querySelectorAll('svg.seq .row.arrow').length,
        lanes: Array.from(c.querySelectorAll('svg.seq .lane')).map((e) => e.getAttribute('aria-label')),
        violating: hit ? { index: hit.getAttribute('data-index'), label: hit.querySelector('.label').textContent, stroke: shaft ? getComputedStyle(shaft).stroke : null, visible: hb.width > 0 && hb.height > 0 } : null,
        callout: callout ? callout.textContent.replace(/\\s+/g, ' ').trim() : null,
      };
    })()`)) as null | {
      id: string;
      open: boolean;
      svg: { w: number; h: number } | null;
      arrows: number;
      lanes: string[];
      violating: { index: string; label: string; stroke: string | null; visible: boolean } | null;
      callout: string | null;
    };
    t.ok(failing, 'a failing case is in the report');
    t.ok(failing!.open, 'failing cases are open');
    t.ok(failing!.svg && failing!.svg.w > 400 && failing!.svg.h > 100, `its diagram renders (${JSON.stringify(failing!.svg)})`);
    t.ok(failing!.arrows >= 4, `arrows drawn (${failing!.arrows})`);
    t.same(failing!.lanes, ['client · conn 0', 'server'], 'a client lane and a server lane');
    t.ok(failing!.violating, 'the violating event is marked');
    t.equal(failing!.violating!.stroke, 'rgb(207, 34, 46)', 'and drawn in red');
    t.ok(failing!.violating!.visible, 'and visible');
    t.match(failing!.violating!.label, /^ack \d+$/, 'the violating arrow is the decoded wrong ack');
    t.match(failing!.callout, /PROTON-4\.3 MUST.*model expected.*seen.*model state/, 'the model\u2019s expectation beside it');

    // The verdict filter hides the failing cases.
    await page.select('#f-verdict', 'pass');
    const shown = (await page.evaluate(`Array.from(document.querySelectorAll('details.case')).map((c) => [c.getAttribute('data-verdict'), getComputedStyle(c).display !== 'none'])`)) as [string, boolean][];
    t.ok(shown.some(([v, vis]) => v === 'fail' && !vis), 'failing cases hidden when filtering on pass');
    t.ok(shown.every(([v, vis]) => (v === 'pass') === vis), 'only passing cases shown');
    // 3 selected cases and the failing proton/sanity-probe case (the fault breaks the probe's exchange too: engine/runner.ts).
    t.match(await page.evaluate(`document.getElementById('f-count').textContent`), /of 4 cases shown/);
    await page.select('#f-verdict', '');

    await mkdir(path.dirname(screenshot), { recursive: true });
    // The top of the page: the summary and the first failing case with its diagram.
    await page.setViewport({ width: 1400, height: 1500 });
    await page.evaluate('window.scrollTo(0, 0)');
    await page.screenshot({ path: screenshot as `${string}.png` });
    t.ok(existsSync(screenshot), `screenshot saved to ${path.relative(process.cwd(), screenshot)}`);
  },
);
