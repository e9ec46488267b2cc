/**
 * The HTML report renders offline in headless Chromium (Debian's `chromium`, driven by playwright-core,
 * kept off the network): every chart drew real data points and the page logged no error. The report
 * is a small recorded one (test/unit/rehearsal/report-fixture.ts), so no DynamoDB Local is needed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { CHARTS, htmlReport, writeHtmlReport } from '../../../local/rehearsal/html';
import { reportFixture } from './report-fixture';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

jest.setTimeout(120_000);

describe('Unit: rehearsal HTML report in headless Chromium', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dualread-report-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('draws every chart with data points and logs no error, with no network', async () => {
    const page = join(dir, 'report.html');
    writeHtmlReport(page, reportFixture());
    // A fresh profile directory (playwright passes it as --user-data-dir).
    const browser = await chromium.launchPersistentContext(join(dir, 'profile'), {
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--headless',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    try {
      const tab = await browser.newPage();
      const errors: string[] = [];
      const requests: string[] = [];
      tab.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      tab.on('pageerror', (e) => errors.push(e.message));
      tab.on('request', (r) => {
        if (!r.url().startsWith('file:')) requests.push(r.url());
      });
      await tab.goto(`file://${page}`);
      const charts = await tab.evaluate(
        (ids) => {
          // The page's globals, typed structurally (the project compiles without the DOM library).
          type Canvas = {
            width: number;
            height: number;
            getContext(kind: '2d'): {
              getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> };
            } | null;
          };
          const page = globalThis as unknown as {
            document: { getElementById(id: string): Canvas | null };
            Chart: { getChart(c: Canvas): { data: { datasets: Array<{ data: unknown[] }> } } | undefined };
          };
          return ids.map((id) => {
            const canvas = page.document.getElementById(id);
            if (!canvas) return { id, points: 0, painted: 0 };
            const chart = page.Chart.getChart(canvas);
            const points = chart ? chart.data.datasets.reduce((n, d) => n + d.data.length, 0) : 0;
            const pixels =
              canvas.getContext('2d')?.getImageData(0, 0, canvas.width, canvas.height).data ?? [];
            let painted = 0;
            for (let i = 3; i < pixels.length; i += 4) if ((pixels[i] as number) > 0) painted++;
            return { id, points, painted };
          });
        },
        CHARTS as readonly string[],
      );
      expect(errors).toEqual([]);
      expect(requests).toEqual([]);
      for (const c of charts) {
        expect({ id: c.id, hasPoints: c.points > 0, painted: c.painted > 500 }).toEqual({
          id: c.id,
          hasPoints: true,
          painted: true,
        });
      }
    } finally {
      await browser.close();
    }
  });

  it('keeps report text out of the markup: a key with </script> cannot end the data block', () => {
    const r = reportFixture();
    const html = htmlReport({
      ...r,
      checks: [
        { ...(r.checks[0] as (typeof r.checks)[number]), passed: false, examples: ['key "</script><b>x"'] },
      ],
    });
    expect(html).not.toContain('</script><b>x');
    expect(html).toContain('&lt;/script&gt;&lt;b&gt;x');
  });
});
